"""Read side: the filtered, searched, sorted case list and the counts behind the dashboard.

Every query here starts from :func:`monitor.authz.visible_cases`, so clearance filters lists,
search results and counts alike.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    and_,
    any_,
    exists,
    func,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy import case as when
from sqlalchemy.orm import aliased, contains_eager

from monitor import authz
from monitor.domain import CustodyStatus, PartialDate, Sentence
from monitor.domain import StatusCounts as StatusCounts  # noqa: PLC0414 - re-export, views use it
from monitor.extensions import db
from monitor.models import (
    Case,
    CaseCount,
    Charge,
    Membership,
    Organization,
    OrganizationCaseCount,
    Person,
    StatusEvent,
    User,
)
from monitor.presentation.translation import gettext as _
from monitor.services import column_rows
from monitor.services.name_matching import (
    WORD_SIMILARITY,
    escape_like,
    similar_spelling_applies,
)
from monitor.services.people import fold, search_text_contains
from monitor.services.validation import page_number, whole_number

# Each order: the keys it sorts by (the case's id last, so the order is total) and whether
# descending. A key's direction is the order's; an unknown date (the only key that may be
# empty) sorts after every known one when ascending, and before them when descending, on
# every database, so each order is the exact reverse of its mirror (``since``/``-since``).
SORT_KEYS: dict[str, tuple[tuple[str, ...], bool]] = {
    "name": (("name", "id"), False),
    "-name": (("name", "id"), True),
    "since": (("since", "id"), False),
    "-since": (("since", "id"), True),
    "status": (("status", "name", "id"), False),
    "country": (("country", "name", "id"), False),
    "-updated": (("updated", "id"), True),
}
_KEY_COLUMNS: dict[str, Any] = {
    "name": Person.name,
    "since": Case.status_since,
    "status": Case.status,
    "country": Case.country,
    "updated": Case.updated_at,
    "id": Case.id,
}
_NULLABLE_KEYS = {"since"}


def _order(
    keys: Sequence[str], descending: bool, columns: dict[str, Any] | None = None
) -> tuple[Any, ...]:
    """ORDER BY terms for these keys (``columns`` names other expressions for some keys)."""
    terms = []
    for key in keys:
        column = (columns or {}).get(key, _KEY_COLUMNS[key])
        term = column.desc() if descending else column.asc()
        if key in _NULLABLE_KEYS:
            term = term.nulls_first() if descending else term.nulls_last()
        terms.append(term)
    return tuple(terms)


SORTS: dict[str, tuple[Any, ...]] = {
    name: _order(keys, descending) for name, (keys, descending) in SORT_KEYS.items()
}
DEFAULT_SORT = "name"
# Public ids name the case a keyset page starts after (or ends before).
_CURSOR = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
MAX_PAGE_SIZE = 100
# A name search's count stops here ("200+"), below the lists' 1,000: deciding "more than N"
# reads N + 1 trigram matches and probes their cases, so a common fragment's page costs as
# little at a million cases as at ten thousand (at a million, "kalo" names 11,734 people;
# counting to 1,000 was 40% of its page). Exact below the cap, and per clearance.
SEARCH_COUNT_LIMIT = 200
# Up to this many people found by a name search, the web list sorts them all rather than walking
# the name index (see list_case_rows); as many as a search counts, since the people found are
# also counted from.
NAME_SEARCH_SORT_LIMIT = SEARCH_COUNT_LIMIT


@dataclass
class CaseFilter:
    """The case list's filters, shared by the web list, the API and (later) exports."""

    status: str | None = None
    country: str | None = None
    organization: str | None = None  # organization public id
    confidentiality: str | None = None
    offence: str | None = None
    q: str | None = None
    sort: str = DEFAULT_SORT
    page: int = 1
    per_page: int = 25
    # Keyset paging: the page of cases right after (or right before) this case, by public id,
    # in the sort order. Its cost does not grow with how deep the page is, unlike ``page``.
    after: str | None = None
    before: str | None = None
    errors: dict[str, str] = field(default_factory=dict)
    # The name search ``q`` also finds similar spellings ("sokah": Kem Sokha); the lists turn it
    # on when the exact search finds nothing.
    similar_names: bool = False

    @classmethod
    def from_args(cls, args: Any, per_page: int = 25) -> CaseFilter:
        """Build from query-string arguments, collecting (not raising) errors for bad values."""
        errors: dict[str, str] = {}

        def text(name: str) -> str | None:
            value = (args.get(name) or "").strip()
            return value or None

        status = text("status")
        if status and status not in {s.value for s in CustodyStatus}:
            errors["status"] = _("unknown custody status")
            status = None
        level = text("confidentiality")
        if level and level not in {"public", "restricted", "confidential"}:
            errors["confidentiality"] = _("unknown confidentiality level")
            level = None
        sort = text("sort") or DEFAULT_SORT
        if sort not in SORTS:
            errors["sort"] = _("unknown sort order")
            sort = DEFAULT_SORT
        page = page_number(args.get("page"), errors)
        # A page size past the maximum is served at the maximum (documented as a clamp).
        size = min(whole_number(args.get("per_page"), errors, "per_page", per_page), MAX_PAGE_SIZE)
        country = text("country")
        cursors: dict[str, str | None] = {}
        for name in ("after", "before"):
            value = text(name)
            if value is not None and not _CURSOR.match(value):
                errors[name] = _("is not a case id")
                value = None
            cursors[name] = value
        if cursors["after"] and cursors["before"]:
            errors["before"] = _("give either after or before, not both")
            cursors["before"] = None
        return cls(
            status=status,
            country=country.upper() if country else None,
            organization=text("organization"),
            confidentiality=level,
            offence=text("offence"),
            q=text("q"),
            sort=sort,
            page=page,
            per_page=size,
            after=cursors["after"],
            before=cursors["before"],
            errors=errors,
        )

    def as_args(self, **changes: Any) -> dict[str, Any]:
        """Non-empty filters as query-string arguments, for links that keep them."""
        values = {
            "status": self.status,
            "country": self.country,
            "organization": self.organization,
            "confidentiality": self.confidentiality,
            "offence": self.offence,
            "q": self.q,
            "sort": None if self.sort == DEFAULT_SORT else self.sort,
            "page": None if self.page == 1 else self.page,
            "after": self.after,
            "before": self.before,
        }
        values.update(changes)
        if "page" in changes and "after" not in changes and "before" not in changes:
            # A link to a numbered page (or to the first) leaves the keyset position.
            values["after"] = values["before"] = None
        return {k: v for k, v in values.items() if v not in (None, "")}

    @property
    def cursor(self) -> str | None:
        """The case a keyset page starts after or ends before, if any."""
        return self.after or self.before


def filtered_cases(user: User | None, filters: CaseFilter) -> Select[Case]:
    """Visible cases matching the filters, with their person joined (not yet sorted or paged)."""
    return _matching_cases(user, filters).join(Case.person)


def _matching_cases(
    user: User | None, filters: CaseFilter, *, probe_people: bool = False
) -> Select[Case]:
    # No join here, so counting stays a scan of one table (plus semi-joins for filters).
    query = authz.visible_cases(user)
    if filters.status:
        query = query.where(Case.status == filters.status)
    if filters.country:
        query = query.where(Case.country == filters.country)
    if filters.confidentiality:
        query = query.where(Case.confidentiality == filters.confidentiality)
    if filters.organization:
        query = query.where(
            exists().where(
                Membership.person_id == Case.person_id,
                Membership.organization_id == Organization.id,
                Organization.public_id == filters.organization,
            )
        )
    if filters.offence:
        pattern = f"%{escape_like(fold(filters.offence))}%"
        query = query.where(
            exists().where(
                Charge.case_id == Case.id,
                func.lower(Charge.offence).like(pattern, escape="\\"),
            )
        )
    if filters.q:
        matching_people = select(Person.id).where(
            *_name_search(filters.q, similar=filters.similar_names)
        )
        query = query.where(_person_among(matching_people, probe=probe_people))
    return query


def _person_among(people: Select[Any], *, probe: bool) -> ColumnElement[bool]:
    """The case's person is one of ``people`` (a query for person ids)."""
    if probe and _on_postgresql():
        # PostgreSQL prices an index probe per matching person above hashing every case, and
        # so scans all 100,000 cases for a name matching a few hundred people. Matching people
        # as an array makes it probe the person_id index instead (3x faster for a typical
        # name; slower only when nearly everybody matches).
        return Case.person_id == any_(func.array(people.scalar_subquery()))
    return Case.person_id.in_(people)


def _name_search(
    q: str, *, similar: bool = False, text: ColumnElement[str] | None = None
) -> list[ColumnElement[bool]]:
    """Every word appears somewhere in the names, native names or aliases; with ``similar``, a
    word of four letters or more may instead be like one there (see :func:`_similar_word`).

    ``text``: the expression searched instead of ``people.search_text`` (see
    :func:`_name_search_page`, which hides the trigram index from one branch this way)."""
    conditions = []
    for word in fold(q).split():
        if text is None:
            exact = search_text_contains(word)
        else:
            exact = text.like(f"%{escape_like(word)}%", escape="\\")
        fuzzy = similar and similar_spelling_applies(word)
        conditions.append(or_(exact, _similar_word(word, text)) if fuzzy else exact)
    return conditions


def _similar_word(word: str, text: ColumnElement[str] | None = None) -> ColumnElement[bool]:
    """SQL condition: ``word`` is at least :data:`WORD_SIMILARITY` like a stretch of the names
    (``text`` if given, else ``people.search_text``).

    PostgreSQL: pg_trgm's ``%>`` operator, served by the trigram index on ``search_text``, with
    the threshold set for the connection by :func:`_similarity_threshold`. SQLite: the same
    measure as a Python function (:mod:`monitor.services.name_matching`).
    """
    searched = Person.search_text if text is None else text
    if _on_postgresql():
        return searched.op("%>")(word)
    return func.word_similarity(word, searched) >= WORD_SIMILARITY


_THRESHOLD_SETTING = "pg_trgm.word_similarity_threshold"


def _similarity_threshold() -> None:
    """Set pg_trgm's word similarity threshold on this connection (the ``%>`` operator reads it;
    its default, 0.6, misses "sokah" for "sokha"). For the session, not the transaction: a read
    view's queries each run in a transaction of their own."""
    if _on_postgresql():
        db.session.execute(select(func.set_config(_THRESHOLD_SETTING, str(WORD_SIMILARITY), False)))


def _exact_first(q: str) -> tuple[ColumnElement[Any], ...]:
    """Sort keys for a name search: people matching every word exactly first, then the most
    similar."""
    folded = fold(q)
    exact = and_(*(search_text_contains(word) for word in folded.split()))
    return (when((exact, 0), else_=1), func.word_similarity(folded, Person.search_text).desc())


def _on_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


T = TypeVar("T")


@dataclass
class CasePage(Generic[T]):
    """One page of the case list."""

    items: list[T]
    total: int
    page: int
    per_page: int
    # True when more cases match than were counted (see ``count_limit``).
    total_capped: bool = False
    # True when a case follows this page (read as one extra row, so it is exact).
    more: bool = False
    # True when no name matched the search exactly and these are cases of similar names.
    similar_names: bool = False
    # True when a case comes before this page.
    earlier: bool = False
    # True when the page was read by keyset (after/before a case), so its number is unknown.
    keyset: bool = False

    @property
    def pages(self) -> int:
        """Number of pages (at least 1); a lower bound when the total is capped."""
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        """Whether a further page holds cases."""
        return self.more


@dataclass(frozen=True, slots=True)
class CaseRow:
    """One line of the web case list: the columns it shows, read without loading ORM objects."""

    public_id: str
    country: str
    status: str
    status_since: dt.date | None
    status_since_precision: str | None
    max_exposure_kind: str | None
    max_exposure_months: int | None
    confidentiality: str
    person_name: str
    person_name_native: str | None

    @classmethod
    def of(cls, values: Sequence[Any]) -> CaseRow:
        """From a row of ``_CASE_ROW_COLUMNS``."""
        return cls(*values)

    @property
    def since(self) -> PartialDate | None:
        """Since when the current status holds (as :attr:`Case.since`)."""
        return PartialDate.of(self.status_since, self.status_since_precision)

    @property
    def max_exposure(self) -> Sentence | None:
        """The most severe maximum sentence among open charges (as :attr:`Case.max_exposure`)."""
        return Sentence.of(self.max_exposure_kind, self.max_exposure_months)


# In CaseRow's field order.
_CASE_ROW_COLUMNS = (
    Case.public_id,
    Case.country,
    Case.status,
    Case.status_since,
    Case.status_since_precision,
    Case.max_exposure_kind,
    Case.max_exposure_months,
    Case.confidentiality,
    Person.name,
    Person.name_native,
)


def _counting(
    user: User | None, filters: CaseFilter, limit: int | None, *, probe_people: bool = False
) -> Select[int]:
    matching = (
        _matching_cases(user, filters, probe_people=probe_people)
        .with_only_columns(Case.id)
        .order_by(None)
    )
    if limit is not None:
        matching = matching.limit(limit + 1)
    return select(func.count()).select_from(matching.subquery())


def count_cases(
    user: User | None, filters: CaseFilter, limit: int | None = None, *, probe_people: bool = False
) -> int:
    """How many visible cases match; with ``limit``, counting stops at ``limit + 1``."""
    return int(column_rows(_counting(user, filters, limit, probe_people=probe_people))[0][0])


AnySelect = TypeVar("AnySelect", bound=Select[*tuple[Any, ...]])


def _paged(
    query: AnySelect,
    filters: CaseFilter,
    user: User | None,
    columns: dict[str, Any] | None = None,
) -> AnySelect:
    """A page of ``query`` in the filter's sort order: by offset (``page``) or by keyset
    (``after``/``before``); one extra row tells whether a further page exists. ``columns``
    names the query's own expression for a sort key (e.g. a subquery's name column).

    A ``before`` page comes back in reverse order (nearest first): :func:`_page` turns it.
    """
    keys, descending = SORT_KEYS[filters.sort]
    if filters.cursor is None:
        return (
            query.order_by(*_order(keys, descending, columns))
            .limit(filters.per_page + 1)
            .offset((filters.page - 1) * filters.per_page)
        )
    backwards = filters.before is not None
    direction = descending != backwards
    condition = _beyond(user, filters.cursor, keys, direction, columns or {})
    return (
        query.where(condition)
        .order_by(*_order(keys, direction, columns))
        .limit(filters.per_page + 1)
    )


def _beyond(
    user: User | None,
    cursor: str,
    keys: Sequence[str],
    descending: bool,
    columns: dict[str, Any],
) -> ColumnElement[bool]:
    """Rows past the case ``cursor`` (a public id) in the order of ``keys``.

    The case's own sort values are read in the same statement, and only if the user may see it
    (a hidden case's position in the list would tell something about it): an unknown or hidden
    case matches nothing. The first key also gets a plain range condition, which an index on
    it can serve (the full comparison spans two tables).
    """
    anchor_case, anchor_person = aliased(Case), aliased(Person)
    anchor_columns = {
        "name": anchor_person.name,
        "since": anchor_case.status_since,
        "status": anchor_case.status,
        "country": anchor_case.country,
        "updated": anchor_case.updated_at,
        "id": anchor_case.id,
    }

    def value(key: str) -> Any:
        return (
            select(anchor_columns[key])
            .select_from(anchor_case)
            .join(anchor_person, anchor_person.id == anchor_case.person_id)
            .where(
                anchor_case.public_id == cursor,
                anchor_case.confidentiality.in_(authz.visible_levels(user)),
            )
            .scalar_subquery()
        )

    def column(key: str) -> Any:
        return columns.get(key, _KEY_COLUMNS[key])

    def past(k: Any, v: Any) -> ColumnElement[bool]:
        beyond: ColumnElement[bool] = k < v if descending else k > v
        return beyond

    # Built from the last key (the id, never empty) to the first.
    *leading, last = keys
    condition: ColumnElement[bool] = past(column(last), value(last))
    for key in reversed(leading):
        k, v = column(key), value(key)
        further = or_(past(k, v), and_(k == v, condition))
        if key in _NULLABLE_KEYS:
            # Empty values sort last ascending, first descending.
            if descending:
                further = or_(
                    further, and_(v.is_(None), or_(k.is_not(None), and_(k.is_(None), condition)))
                )
            else:
                further = or_(further, and_(k.is_(None), or_(v.is_not(None), condition)))
        condition = further
    first = keys[0]
    if first not in _NULLABLE_KEYS:
        k, v = column(first), value(first)
        condition = and_(k <= v if descending else k >= v, condition)
    return condition


def _page(rows: list[T], filters: CaseFilter, total: int, count_limit: int | None) -> CasePage[T]:
    capped = count_limit is not None and total > count_limit
    extra = len(rows) > filters.per_page
    items = rows[: filters.per_page]
    if filters.before is not None:
        # Read backwards from the cursor: the rows nearest it came first.
        items.reverse()
    return CasePage(
        items,
        count_limit if capped and count_limit else total,
        filters.page,
        filters.per_page,
        total_capped=capped,
        # Going forwards, a further page exists if the extra row came; one led back to here.
        more=extra if filters.before is None else True,
        earlier=(
            filters.page > 1 or filters.after is not None or (filters.before is not None and extra)
        ),
        keyset=filters.cursor is not None,
    )


def list_cases(
    user: User | None, filters: CaseFilter, *, count_limit: int | None = None
) -> CasePage[Case]:
    """A page of cases: two queries whatever the page size (count, then rows with people).

    ``count_limit`` caps the count for interactive pages: counting every one of 100,000 rows on
    each page view costs more than the page itself, and "10,000+" tells a reader as much.
    """
    count_limit = _search_count_limit(filters, count_limit)
    exact = _counted(user, filters)
    if exact is not None:
        total, count_limit = int(db.session.scalar(exact) or 0), None
    else:
        total = count_cases(user, filters, count_limit)
    if _try_similar_names(filters, total):
        return replace(
            list_cases(user, replace(filters, similar_names=True), count_limit=count_limit),
            similar_names=True,
        )
    query = filtered_cases(user, filters).options(contains_eager(Case.person))
    rows = list(db.session.scalars(_paged(query, filters, user)).all())
    return _page(rows, filters, total, count_limit)


def _search_count_limit(filters: CaseFilter, count_limit: int | None) -> int | None:
    """A capped count's cap: :data:`SEARCH_COUNT_LIMIT` at most for a name search."""
    if filters.q and count_limit is not None:
        return min(count_limit, SEARCH_COUNT_LIMIT)
    return count_limit


def _try_similar_names(filters: CaseFilter, total: int) -> bool:
    """Whether to search again for similar names: the exact name search found nothing."""
    if total or not filters.q or filters.similar_names:
        return False
    _similarity_threshold()
    return True


def _counted(user: User | None, filters: CaseFilter) -> Select[Any] | None:
    """The exact number of matching cases, summed from the count rows, when the filters are
    among those the count rows keep (status, country and level; or an organization with status
    and level); ``None`` otherwise. Exact per clearance, and as cheap at any size."""
    if filters.offence or filters.q:
        return None
    if filters.organization is None:
        conditions = [_visible_counts(user)]
        if filters.status:
            conditions.append(CaseCount.status == filters.status)
        if filters.country:
            conditions.append(CaseCount.country == filters.country)
        if filters.confidentiality:
            conditions.append(CaseCount.confidentiality == filters.confidentiality)
        return select(func.coalesce(func.sum(CaseCount.cases), 0)).where(*conditions)
    if filters.country:
        return None
    counts = OrganizationCaseCount
    levels = authz.visible_levels(user)
    conditions = [
        counts.organization_id == _organization_id(filters.organization),
        true() if authz.cleared_for_every_level(levels) else counts.confidentiality.in_(levels),
    ]
    if filters.status:
        conditions.append(counts.status == filters.status)
    if filters.confidentiality:
        conditions.append(counts.confidentiality == filters.confidentiality)
    return select(func.coalesce(func.sum(counts.cases), 0)).where(*conditions)


def _organization_id(public_id: str) -> Any:
    return select(Organization.id).where(Organization.public_id == public_id).scalar_subquery()


def _members_cases(user: User | None, filters: CaseFilter) -> Select[Case]:
    """As :func:`filtered_cases` with an organization, as a join on its memberships in the
    order of the members' names (``Membership.person_name``), one row per case.

    An organization of 20,000 among a million people: the name index of people holds one
    member in fifty, the organization's index of names only members.
    """
    assert filters.organization  # noqa: S101 - only called with an organization
    earlier = aliased(Membership)
    return (
        _matching_cases(user, replace(filters, organization=None))
        .join(Membership, Membership.person_id == Case.person_id)
        .join(Case.person)
        .where(
            Membership.organization_id == _organization_id(filters.organization),
            # A member with several roles: their first membership only.
            ~exists().where(
                earlier.person_id == Membership.person_id,
                earlier.organization_id == Membership.organization_id,
                earlier.id < Membership.id,
            ),
        )
    )


def list_case_rows(
    user: User | None, filters: CaseFilter, *, count_limit: int | None = None
) -> CasePage[CaseRow]:
    """As :func:`list_cases`, but each case as the plain columns the web list shows.

    Same filters, clearance and order; reading ten columns instead of two ORM objects per row
    (with their JSON, summaries and biographies) is most of the list's cost in Python. A name
    search that finds nothing is tried again for similar names (``similar_names`` on the page).
    """
    count_limit = _search_count_limit(filters, count_limit)
    page = _case_rows(user, filters, count_limit)
    if _try_similar_names(filters, page.total):
        similar = replace(filters, similar_names=True)
        return replace(_case_rows(user, similar, count_limit), similar_names=True)
    return page


def _case_rows(
    user: User | None, filters: CaseFilter, count_limit: int | None
) -> CasePage[CaseRow]:
    if not filters.q:
        # The count rides along as a column (computed once), saving a round trip; only a page
        # past the last one, which has no row to carry it, counts separately. It is exact and
        # cheap when the count rows keep it, else counted (up to ``count_limit``).
        exact = _counted(user, filters)
        if exact is not None:
            count_limit = None
        counting = _counting(user, filters, count_limit) if exact is None else exact
        columns: dict[str, Any] = {}
        if filters.organization and filters.sort in {"name", "-name"}:
            cases, columns = _members_cases(user, filters), {"name": Membership.person_name}
        else:
            cases = filtered_cases(user, filters)
        query = cases.with_only_columns(*_CASE_ROW_COLUMNS, counting.scalar_subquery())
        found = column_rows(_paged(query, filters, user, columns))
        if found:
            total = int(found[0][-1])
        elif exact is not None:
            total = int(db.session.scalar(exact) or 0)
        else:
            total = count_cases(user, filters, count_limit)
        return _page([CaseRow.of(row[:-1]) for row in found], filters, total, count_limit)
    if filters.sort in {"name", "-name"}:
        page = _name_search_page(user, filters, count_limit)
        if page is not None:
            return page
    total = count_cases(user, filters, count_limit, probe_people=True)
    # Few matches: read just those (sorted people first when the list is in name order, else
    # through the person_id index) and sort them. Many: let the planner walk an index in the
    # sort order, which stops after a page when matches are dense.
    capped = count_limit is not None and total > count_limit
    few = not capped and total <= NAME_SEARCH_SORT_LIMIT
    if few and filters.sort in {"name", "-name"}:
        query = _found_by_name(
            user,
            _matching_cases(user, replace(filters, q=None)),
            filters,
            _matching_people(filters).subquery("found_people"),
        )
    else:
        query = _paged(
            _matching_cases(user, filters, probe_people=few)
            .join(Case.person)
            .with_only_columns(*_CASE_ROW_COLUMNS),
            filters,
            user,
        )
    rows = [CaseRow.of(row) for row in column_rows(query)]
    return _page(rows, filters, total, count_limit)


def _name_search_page(
    user: User | None, filters: CaseFilter, count_limit: int | None
) -> CasePage[CaseRow] | None:
    """A page of a name search in name order and its count, in one query, however many match;
    ``None`` when the page holds no row to carry the count (nothing matches, or the page is
    past the last).

    The matching people are found once (a common table expression, up to
    ``NAME_SEARCH_SORT_LIMIT + 1`` of them). While no more match, the page sorts just those
    people and reads the first ones' cases. When more match (a common fragment: at a million
    cases "kalo" names 11,734 people), sorting them all costs what reading them all costs, and
    grows with the register; the page walks the people's name index instead (covering the
    searched text, so no row is read for a person who does not match) and stops after a page.
    Both readings are branches of one statement behind a one-time filter, so the number of
    queries does not depend on how many match.

    The count: the cases of the found people, which is exact while few match, and exact too
    when it passes ``count_limit`` (the list then says "200+"); otherwise every matching
    person's cases are counted (only then, as PostgreSQL evaluates a subquery when needed).
    """
    assert filters.q  # noqa: S101 - only called for a name search
    searched = _name_search(filters.q, similar=filters.similar_names)
    found = _matching_people(filters).limit(NAME_SEARCH_SORT_LIMIT + 1).cte("found_people")
    others = _matching_cases(user, replace(filters, q=None))  # clearance and the other filters
    few = select(func.count()).select_from(found).scalar_subquery() <= NAME_SEARCH_SORT_LIMIT

    def counted(cases: Select[Any]) -> Any:
        if count_limit is not None:
            cases = cases.limit(count_limit + 1)
        return select(func.count()).select_from(cases.subquery()).scalar_subquery()

    ids = others.with_only_columns(Case.id)
    # Counted once (a common table expression) though the condition below reads it again.
    found_cases = select(
        counted(ids.where(_person_among(select(found.c.id), probe=True))).label("n")
    ).cte("found_cases")
    of_found = select(found_cases.c.n).scalar_subquery()
    of_everyone = counted(ids.join(Case.person).where(*searched))
    settled = few if count_limit is None else or_(few, of_found > count_limit)
    total = when((settled, of_found), else_=of_everyone)
    sorted_found = _found_by_name(user, others, filters, found, total, Case.id.expression).where(
        few
    )
    # The walk tests each person's text as an expression the trigram index cannot serve: the
    # planner, whose estimate of a fragment's matches swings with its sample (100 or 10,000 of
    # a million), would otherwise read and sort every match here, which is what this branch
    # avoids. Unknown to the statistics, the condition is estimated at 0.5% of the people,
    # and walking the name index in order is then the cheapest way to a page at any size.
    walked_text = Person.search_text + ""
    walked = _paged(
        others.join(Case.person)
        .where(*_name_search(filters.q, similar=filters.similar_names, text=walked_text))
        .with_only_columns(*_CASE_ROW_COLUMNS, total, Case.id),
        filters,
        user,
    ).where(~few)
    branches = [branch.subquery() for branch in (sorted_found, walked)]
    page = union_all(*(select(*branch.c) for branch in branches)).subquery("page")
    # The branch that ran came in its order already; the union's order is set again (a page).
    descending = (filters.sort == "-name") != (filters.before is not None)
    name, case_id = page.c[len(_CASE_ROW_COLUMNS) - 2], page.c[len(_CASE_ROW_COLUMNS) + 1]
    rows = column_rows(
        select(*page.c)
        .order_by(*((name.desc(), case_id.desc()) if descending else (name, case_id)))
        .limit(filters.per_page + 1)
    )
    if not rows:
        return None
    width = len(_CASE_ROW_COLUMNS)
    return _page(
        [CaseRow.of(row[:width]) for row in rows], filters, int(rows[0][width]), count_limit
    )


def _matching_people(filters: CaseFilter) -> Select[*tuple[Any, ...]]:
    """The id, name and native name of every person the filters' name search finds."""
    assert filters.q  # noqa: S101 - only called for a name search
    return select(Person.id, Person.name, Person.name_native).where(
        *_name_search(filters.q, similar=filters.similar_names)
    )


def _found_by_name(
    user: User | None,
    cases: Select[Case],
    filters: CaseFilter,
    found: FromClause,
    *extra: ColumnElement[Any],
) -> Select[*tuple[Any, ...]]:
    """A page of ``cases`` whose person is among ``found`` (as :func:`_matching_people`), in name
    order, as rows of ``_CASE_ROW_COLUMNS`` followed by ``extra``.

    For a search with few matches. The found people are sorted by name in a subquery (the
    trigram index, then a sort of the matches), and only the first people's cases are read.
    Joining ``people`` directly instead lets the planner walk the name index past every
    non-matching person: 20 ms for a name late in the alphabet, on 100,000 people.
    """
    descending = filters.sort == "-name"
    people = (
        select(found)
        .order_by(found.c.name.desc() if descending else found.c.name.asc())
        .subquery("sorted_people")
    )
    return _paged(
        cases.join(people, people.c.id == Case.person_id).with_only_columns(
            *_CASE_ROW_COLUMNS[:-2], people.c.name, people.c.name_native, *extra
        ),
        filters,
        user,
        {"name": people.c.name},
    )


def _visible_counts(user: User | None) -> ColumnElement[bool]:
    """The count rows of the levels the user's clearance shows (every level: no condition)."""
    levels = authz.visible_levels(user)
    if authz.cleared_for_every_level(levels):
        return true()
    return CaseCount.confidentiality.in_(levels)


def status_counts(user: User | None) -> StatusCounts:
    """Counts by custody status over every visible case (from the count rows, not the cases)."""
    rows = db.session.execute(
        select(CaseCount.status, func.sum(CaseCount.cases))
        .where(_visible_counts(user))
        .group_by(CaseCount.status)
    ).all()
    return StatusCounts(Counter({status: int(n) for status, n in rows if n}))


def counts_by_country(user: User | None) -> dict[str, StatusCounts]:
    """Counts by custody status for each country."""
    rows = db.session.execute(
        select(CaseCount.country, CaseCount.status, func.sum(CaseCount.cases))
        .where(_visible_counts(user))
        .group_by(CaseCount.country, CaseCount.status)
    ).all()
    result: dict[str, StatusCounts] = {}
    for country, status, n in rows:
        if n:
            result.setdefault(country, StatusCounts(Counter()))
            result[country].counts[status] += int(n)
    return dict(sorted(result.items()))


def _organization_count_rows(
    user: User | None, *where: ColumnElement[bool]
) -> dict[int, Counter[str]]:
    levels = authz.visible_levels(user)
    condition = (
        true()
        if authz.cleared_for_every_level(levels)
        else OrganizationCaseCount.confidentiality.in_(levels)
    )
    rows = db.session.execute(
        select(
            OrganizationCaseCount.organization_id,
            OrganizationCaseCount.status,
            func.sum(OrganizationCaseCount.cases),
        )
        .where(condition, *where)
        .group_by(OrganizationCaseCount.organization_id, OrganizationCaseCount.status)
    ).all()
    by_org: dict[int, Counter[str]] = {}
    for org_id, status, n in rows:
        if n:
            by_org.setdefault(org_id, Counter())[status] += int(n)
    return by_org


def counts_by_organization(user: User | None) -> list[tuple[Organization, StatusCounts]]:
    """Counts by custody status of member cases for each organization (distinct cases)."""
    by_org = _organization_count_rows(user)
    orgs = db.session.scalars(select(Organization).order_by(Organization.name)).all()
    return [(org, StatusCounts(by_org.get(org.id, Counter()))) for org in orgs]


def organization_status_counts(user: User | None, org: Organization) -> StatusCounts:
    """Custody status counts of one organization's distinct member cases the user may see."""
    by_org = _organization_count_rows(user, OrganizationCaseCount.organization_id == org.id)
    return StatusCounts(by_org.get(org.id, Counter()))


def latest_changes(user: User | None, limit: int = 10) -> list[StatusEvent]:
    """The most recently recorded status events on visible cases."""
    return list(
        db.session.scalars(
            select(StatusEvent)
            .join(Case, StatusEvent.case_id == Case.id)
            .join(Person, Case.person_id == Person.id)
            .where(authz.case_visible(user))
            .options(contains_eager(StatusEvent.case).contains_eager(Case.person))
            .order_by(StatusEvent.recorded_at.desc(), StatusEvent.id.desc())
            .limit(limit)
        )
    )


@dataclass
class MemberRow:
    """One member of an organization with their visible cases."""

    membership: Membership
    cases: list[Case]


def organization_members(user: User | None, org: Organization) -> list[MemberRow]:
    """Every member of an organization (hiding people whose every case is above clearance)."""
    memberships = db.session.scalars(
        _member_query(user, org)
        .options(contains_eager(Membership.person))
        .order_by(Membership.person_name, Membership.id)
    ).all()
    return _cases_of_members(user, memberships)


def _member_query(user: User | None, org: Organization) -> Select[Membership]:
    return (
        select(Membership)
        .join(Person, Membership.person_id == Person.id)
        .where(Membership.organization_id == org.id, authz.person_visible(user))
    )


def _cases_of_members(user: User | None, memberships: Sequence[Membership]) -> list[MemberRow]:
    person_ids = {m.person_id for m in memberships}
    cases_by_person: dict[int, list[Case]] = {}
    if person_ids:
        for case in db.session.scalars(
            authz.visible_cases(user).where(Case.person_id.in_(person_ids)).order_by(Case.id)
        ):
            cases_by_person.setdefault(case.person_id, []).append(case)
    return [MemberRow(m, cases_by_person.get(m.person_id, [])) for m in memberships]


@dataclass
class MemberPage:
    """One page of an organization's members (by name), and whether another follows."""

    rows: list[MemberRow]
    page: int
    per_page: int
    more: bool


def organization_members_page(
    user: User | None, org: Organization, page: int, per_page: int
) -> MemberPage:
    """A page of an organization's members the user may see, by name, with their visible cases.

    Two queries whatever the organization's size: the page's memberships (one extra row tells
    whether a further page exists), then their cases. Nothing counts every member: the page's
    summary comes from the count rows (:func:`organization_status_counts`).
    """
    memberships = db.session.scalars(
        _member_query(user, org)
        .options(contains_eager(Membership.person))
        .order_by(Membership.person_name, Membership.id)
        .limit(per_page + 1)
        .offset((page - 1) * per_page)
    ).all()
    rows = _cases_of_members(user, memberships[:per_page])
    return MemberPage(rows, page, per_page, more=len(memberships) > per_page)


def organization_member_pages(user: User | None, org: Organization, per_page: int) -> int:
    """How many pages of members the user may see (at least 1): for a page past the last."""
    total = db.session.scalar(
        select(func.count()).select_from(
            _member_query(user, org).with_only_columns(Membership.id).subquery()
        )
    )
    return max(1, -(-int(total or 0) // per_page))


def organization_counts(rows: list[MemberRow]) -> StatusCounts:
    """Custody status counts of an organization's distinct member cases."""
    seen: dict[int, str] = {}
    for row in rows:
        for case in row.cases:
            seen[case.id] = case.status
    return StatusCounts(Counter(seen.values()))


def visible_people(user: User | None, q: str | None = None) -> Select[Person]:
    """People the user may see, optionally matching a name search: exact matches first, then
    similar spellings, most similar first ("sokah" finds Kem Sokha)."""
    query = select(Person).where(authz.person_visible(user))
    if not q or not fold(q).split():
        return query.order_by(Person.name, Person.id)
    _similarity_threshold()
    return query.where(*_name_search(q, similar=True)).order_by(
        *_exact_first(q), Person.name, Person.id
    )
