"""The case list counts exactly up to a cap, and pages past it stay reachable."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select

from monitor import authz
from monitor.domain import PartialDate
from monitor.extensions import db
from monitor.models import Case, Membership, Organization, Person, User
from monitor.services import cases as case_service
from monitor.services import people, queries
from monitor.services.seed import seed_synthetic
from tests.support.accounts import make_user


def test_capped_count_says_more_and_keeps_a_next_page(app: Flask, demo: dict[str, str]) -> None:
    # A name search is counted case by case: up to the cap.
    admin = make_user("admin", "confidential")
    exact = queries.list_cases(admin, queries.CaseFilter(q="m", per_page=1))
    assert (exact.total, exact.total_capped, exact.pages) == (3, False, 3)

    capped = queries.list_cases(admin, queries.CaseFilter(q="m", per_page=1), count_limit=1)
    assert capped.total == 1
    assert capped.total_capped
    assert capped.has_next
    last = queries.list_cases(admin, queries.CaseFilter(q="m", per_page=1, page=3), count_limit=1)
    assert [c.person.name for c in last.items] == ["Mu Sochua"]
    assert not last.has_next


def test_counts_the_count_rows_keep_are_exact_past_the_cap(
    app: Flask, demo: dict[str, str]
) -> None:
    # Status, country, level (and an organization with status and level) are summed from the
    # count rows: exact, per clearance, whatever the cap.
    organization = db.session.scalars(select(Organization.public_id)).first()
    for user in (make_user("viewer", "public"), make_user("admin", "confidential")):
        for args in ({}, {"country": "KH"}, {"organization": organization or ""}):
            filters = queries.CaseFilter.from_args({**args, "per_page": "1"})
            visible = len(db.session.scalars(queries.filtered_cases(user, filters)).all())
            for page in (
                queries.list_cases(user, filters, count_limit=1),
                queries.list_case_rows(user, filters, count_limit=1),
            ):
                assert (page.total, page.total_capped) == (visible, False), (user, args)


def test_capped_count_is_exact_below_the_cap(app: Flask, demo: dict[str, str]) -> None:
    admin = make_user("admin", "confidential")
    page = queries.list_cases(admin, queries.CaseFilter(q="sokha"), count_limit=10)
    assert (page.total, page.total_capped, page.has_next) == (1, False, False)


def _both_lists(
    user: User, args: dict[str, str], count_limit: int
) -> tuple[queries.CasePage[queries.CaseRow], queries.CasePage[Case]]:
    """The web list's rows and the ORM list for ``args``, checked to show the same cases, in
    the same order, with the same counts."""
    filters = queries.CaseFilter.from_args(args)
    full = queries.list_cases(user, filters, count_limit=count_limit)
    rows = queries.list_case_rows(user, filters, count_limit=count_limit)
    assert [r.public_id for r in rows.items] == [c.public_id for c in full.items], args
    assert [r.person_name for r in rows.items] == [c.person.name for c in full.items], args
    assert (rows.total, rows.total_capped, rows.has_next) == (
        full.total,
        full.total_capped,
        full.has_next,
    ), args
    return rows, full


def test_list_rows_match_the_full_cases_for_every_sort_and_filter(
    app: Flask, demo: dict[str, str]
) -> None:
    # The web list reads plain columns (list_case_rows); the API loads ORM objects (list_cases).
    # Both must show the same cases, in the same order, with the same counts.
    viewer = make_user("viewer", "public")
    admin = make_user("admin", "confidential")
    choices = [
        *({"sort": key} for key in queries.SORTS),
        {"q": "sokha"},
        {"q": "SOKHA kem"},
        {"q": "nobody"},
        {"status": "fled"},
        {"country": "KH", "sort": "-since"},
        {"confidentiality": "public"},
        {"per_page": "1", "page": "2"},
        {"per_page": "1", "page": "9"},
        {"q": "sokha", "page": "9"},
        {"q": "m", "sort": "-name"},
        {"q": "m", "sort": "status", "per_page": "1", "page": "2"},
    ]
    for user in (viewer, admin):
        for args in choices:
            rows, full = _both_lists(user, args, count_limit=2)
            assert [(r.since, r.max_exposure) for r in rows.items] == [
                (c.since, c.max_exposure) for c in full.items
            ]


@contextmanager
def _statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])  # (conn, cursor, statement, parameters, context, many)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _search_register() -> tuple[User, User]:
    """60 synthetic cases; five people with a second case, two people sharing one name."""
    seed_synthetic(60, seed=7)
    # Some cases above a viewer's clearance, so the count and the page must both filter them.
    # By position, not by id: the ids start wherever earlier tests left the sequence.
    for position, case in enumerate(db.session.scalars(select(Case).order_by(Case.id))):
        if position % 4 == 3:
            case.confidentiality = "confidential"
    twice = db.session.scalars(select(Person).order_by(Person.id).limit(5)).all()
    namesake = people.create_person("test", people.PersonInput(name=twice[0].name))
    for number, person in enumerate([*twice, namesake]):
        case_service.create_case(
            "test",
            person,
            case_service.CaseInput(
                country="KH",
                title="a second case",
                confidentiality=("public", "restricted", "confidential")[number % 3],
            ),
            case_service.StatusInput(status="jailed", occurred_on=PartialDate.parse("2020-05")),
        )
    db.session.commit()
    return make_user("viewer", "public"), make_user("admin", "confidential")


@pytest.mark.parametrize("sort_limit", [2_000, 3, 0])
def test_name_searches_page_count_and_sort_alike_whichever_way_they_are_read(
    app: Flask, monkeypatch: pytest.MonkeyPatch, sort_limit: int
) -> None:
    # A name search in name order reads its page and count in one query: sorting the people
    # found while few match (up to NAME_SEARCH_SORT_LIMIT), walking the name index otherwise.
    # Lowering the limit sends the same searches down the other branch: the pages must not
    # differ from the ORM list's.
    monkeypatch.setattr(queries, "NAME_SEARCH_SORT_LIMIT", sort_limit)
    viewer, admin = _search_register()
    organization = db.session.scalars(select(Organization.public_id).limit(1)).one()
    searches = [
        {"q": "synthetic"},
        {"q": "synthetic", "sort": "-name", "per_page": "7", "page": "3"},
        {"q": "synthetic", "per_page": "7", "page": "9"},
        {"q": "synthetic", "per_page": "7", "page": "99"},
        {"q": "synthetic", "status": "jailed", "per_page": "5", "page": "2"},
        {"q": "synthetic", "country": "KH", "confidentiality": "public"},
        {"q": "synthetic", "organization": organization, "sort": "-name"},
        {"q": "synthetic", "offence": "treason"},
        {"q": "00001"},  # eleven people: 000001 and 000010-000019
        {"q": "000002", "sort": "-name"},  # one person with two cases
        {"q": "a"},
        {"q": "00", "sort": "-name", "per_page": "4", "page": "2"},
        {"q": "nobody at all"},
    ]
    for user in (viewer, admin):
        for args in searches:
            _both_lists(user, args, count_limit=40)
    # The searches found something to compare, and the clearance hid some of it.
    everything = queries.CaseFilter.from_args({"q": "synthetic"})
    seen = queries.list_case_rows(viewer, everything).total
    assert 0 < seen < queries.list_case_rows(admin, everything).total

    # One statement however many people match (the number of queries does not grow with the
    # register): "synthetic" names 61 people, "000002" one.
    for q in ("synthetic", "000002"):
        with _statements() as statements:
            queries.list_case_rows(admin, queries.CaseFilter.from_args({"q": q}))
        assert len(statements) == 1, (q, statements)


def _walk(user: User, args: dict[str, str], per_page: int, *, backwards: bool = False) -> list[str]:
    """Every case of the list, page after page by keyset (``after`` the last case shown), or
    from the last case back to the first (``before`` the first case shown)."""
    seen: list[str] = []
    cursor: dict[str, str] = {}
    if backwards:
        everything = queries.list_case_rows(
            user, queries.CaseFilter.from_args({**args, "per_page": "100"})
        )
        seen = [everything.items[-1].public_id] if everything.items else []
        cursor = {"before": seen[0]} if seen else {}
        if not seen:
            return seen
    for _ in range(100):
        filters = queries.CaseFilter.from_args({**args, **cursor, "per_page": str(per_page)})
        page = queries.list_case_rows(user, filters)
        full = queries.list_cases(user, filters)
        ids = [r.public_id for r in page.items]
        assert ids == [c.public_id for c in full.items], (args, cursor)
        assert (page.more, page.earlier) == (full.more, full.earlier), (args, cursor)
        if backwards:
            seen = ids + seen
            if not page.earlier:
                return seen
            cursor = {"before": ids[0]}
        else:
            seen += ids
            if not page.more:
                return seen
            cursor = {"after": ids[-1]}
    raise AssertionError("the walk did not end")


def test_keyset_pages_walk_the_whole_list_in_every_order_both_ways(app: Flask) -> None:
    # Next (after the last case shown) and Previous (before the first) read the same cases in
    # the same order as numbered pages, for every sort, filter and clearance, with namesakes
    # (ties broken by case) and unknown dates (last ascending, first descending).
    viewer, admin = _search_register()
    for position, case in enumerate(db.session.scalars(select(Case).order_by(Case.id))):
        if position % 7 == 6:
            case.status_since = None
    db.session.commit()
    organization = db.session.scalars(
        select(Organization.public_id)
        .join(Membership, Membership.organization_id == Organization.id)
        .group_by(Organization.public_id)
        .order_by(func.count().desc())
        .limit(1)
    ).one()
    choices = [
        *({"sort": key} for key in queries.SORTS),
        {"status": "jailed", "sort": "-since"},
        {"organization": organization},
        {"organization": organization, "sort": "-name"},
        {"organization": organization, "status": "jailed"},
        {"country": "KH", "sort": "country"},
        {"q": "synthetic", "sort": "-name"},
    ]
    for user in (viewer, admin):
        for args in choices:
            expected = [
                r.public_id
                for r in queries.list_case_rows(
                    user, queries.CaseFilter.from_args({**args, "per_page": "100"})
                ).items
            ]
            assert len(expected) > 1, args
            small = len(expected) < 6
            assert _walk(user, args, 1 if small else 2) == expected, args
            assert _walk(user, args, 1 if small else 3, backwards=True) == expected, args


def test_a_keyset_page_after_a_hidden_or_unknown_case_is_empty(app: Flask) -> None:
    # A case above the clearance is no anchor: its place in the list would tell about it.
    viewer, admin = _search_register()
    hidden = db.session.scalars(
        select(Case.public_id).where(Case.confidentiality == "confidential").limit(1)
    ).one()
    for cursor in ({"after": hidden}, {"before": hidden}, {"after": "nosuchcase"}):
        filters = queries.CaseFilter.from_args(cursor)
        assert queries.list_case_rows(viewer, filters).items == []
        assert queries.list_cases(viewer, filters).items == []
    # Cleared for it, a user reads on from it (it is not the first and the last case at once).
    assert any(
        queries.list_case_rows(admin, queries.CaseFilter.from_args({side: hidden})).items
        for side in ("after", "before")
    )
    refused = queries.CaseFilter.from_args({"after": "no such case!", "before": "x"})
    assert set(refused.errors) == {"after"}


def test_a_name_search_counts_up_to_its_own_cap_exactly_per_clearance(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A name search's count stops at SEARCH_COUNT_LIMIT (below the lists' own cap): past it the
    # list says "N+"; below it the count is exact for each clearance.
    monkeypatch.setattr(queries, "SEARCH_COUNT_LIMIT", 12)
    monkeypatch.setattr(queries, "NAME_SEARCH_SORT_LIMIT", 12)
    viewer, admin = _search_register()
    for user in (viewer, admin):
        for q in ("synthetic", "00001", "000002"):
            levels = authz.visible_levels(user)
            expected = sum(  # brute force: every case, in Python
                q in case.person.search_text and case.confidentiality in levels
                for case in db.session.scalars(select(Case))
            )
            for page in (
                queries.list_case_rows(
                    user, queries.CaseFilter.from_args({"q": q}), count_limit=1_000
                ),
                queries.list_cases(user, queries.CaseFilter.from_args({"q": q}), count_limit=1_000),
            ):
                assert (page.total, page.total_capped) == (
                    (12, True) if expected > 12 else (expected, False)
                ), (q, user.email)
    # A list without a name search is not held to the search's cap.
    page = queries.list_case_rows(admin, queries.CaseFilter.from_args({}), count_limit=1_000)
    assert (page.total, page.total_capped) == (
        db.session.scalar(select(func.count(Case.id))),
        False,
    )
