"""Lists cost a fixed number of SQL queries, whatever the page size."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from monitor.extensions import db
from monitor.services import seed
from tests.support.api import Api


@contextmanager
def counting() -> Iterator[list[str]]:
    """Collect every SQL statement run inside the block."""
    statements: list[str] = []
    # Tests share one session across requests; start afresh as a real request would.
    db.session.remove()

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_case_list_queries_do_not_grow_with_page_size(editor_api: Api) -> None:
    seed.seed_synthetic(60)
    db.session.commit()
    editor_api.get("/cases")  # the first use of a token records it; measure the steady state
    costs = {}
    for size in (2, 50):
        with counting() as statements:
            response = editor_api.get("/cases", per_page=size, sort="-since")
        assert len(response.get_json()["items"]) == size
        costs[size] = len(statements)
    assert costs[2] == costs[50]
    assert costs[50] <= 5


def test_case_page_queries_do_not_grow_with_its_history(
    editor_api: Api, demo: dict[str, str]
) -> None:
    url = f"/cases/{demo['Kem Sokha']}"
    editor_api.get(url)
    with counting() as before:
        editor_api.get(url)
    for year in range(2010, 2016):
        editor_api.post(f"{url}/status-events", {"status": "jailed", "occurred_on": str(year)})
        editor_api.post(f"{url}/charges", {"offence": "x", "max_sentence": {"kind": "unknown"}})
    with counting() as after:
        response = editor_api.get(url)
    assert len(response.get_json()["events"]) == 7
    assert len(after) == len(before)
