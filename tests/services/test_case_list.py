"""The case list counts exactly up to a cap, and pages past it stay reachable."""

from __future__ import annotations

from flask import Flask

from monitor.services import queries
from tests.conftest import make_user


def test_capped_count_says_more_and_keeps_a_next_page(app: Flask, demo: dict[str, str]) -> None:
    admin = make_user("admin", "confidential")
    exact = queries.list_cases(admin, queries.CaseFilter(per_page=1))
    assert (exact.total, exact.total_capped, exact.pages) == (3, False, 3)

    capped = queries.list_cases(admin, queries.CaseFilter(per_page=1), count_limit=1)
    assert capped.total == 1
    assert capped.total_capped
    assert capped.has_next
    last = queries.list_cases(admin, queries.CaseFilter(per_page=1, page=3), count_limit=1)
    assert [c.person.name for c in last.items] == ["Mu Sochua"]
    assert not last.has_next


def test_capped_count_is_exact_below_the_cap(app: Flask, demo: dict[str, str]) -> None:
    admin = make_user("admin", "confidential")
    page = queries.list_cases(admin, queries.CaseFilter(q="sokha"), count_limit=10)
    assert (page.total, page.total_capped, page.has_next) == (1, False, False)
