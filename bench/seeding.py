"""Synthetic registers of a given size, loaded with PostgreSQL ``COPY`` and reused across runs.

Each size has its own database (``<bench database>_<cases>``). A one-row table,
``bench_seed``, records the seed's version and size: a run reuses the database when both match
and otherwise drops and loads it again. Rows are written with ``COPY … FROM STDIN`` (psycopg 3's
``cursor.copy``) with the secondary indexes dropped and triggers off
(``session_replication_role = replica``, which also skips the foreign-key checks of rows built
consistent here), then the indexes are rebuilt and the count tables recomputed from the rows,
as the services would have kept them.

Per case: one person (``Synthetic Kalomiden 0001234``), 3 status events, 1-3 charges and a
confidentiality level out of public (60 %), restricted (20 %) and confidential (20 %). A few
organizations hold members: the largest ``min(20,000, cases / 5)``, the others a half, a tenth
and a hundredth of that.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import psycopg

from bench.database import BenchError, analyze, ensure_database, libpq_url, run_monitor

SEED_VERSION = 1
LARGEST_ORGANIZATION = 20_000
SYLLABLES = ["ka", "lo", "mi", "ner", "sa", "to", "vu", "ri", "den", "pa", "zo", "qui", "bel"]
STATUSES = ["at_liberty", "jailed", "house_arrest", "fled", "disappeared", "deceased"]
LEVELS = ["public"] * 3 + ["restricted", "confidential"]
COUNTRIES = ["KH", "MM", "BY", "VN", "TH", "IR", "NI", "TR"]
OFFENCES = ["incitement", "treason", "defamation", "unlawful assembly", "terrorism", "sedition"]
BATCH = 20_000
_CREATED = "2026-01-01 00:00:00+00"
_DAY0 = dt.date(2026, 1, 1)


@dataclass(frozen=True)
class Seeded:
    """One size's database, ready: its URL, how it was come by, and its samples."""

    url: str
    cases: int
    seeded: bool
    seconds: float
    largest_organization: str  # public id
    largest_members: int


def size_url(base: str, cases: int) -> str:
    """The database for ``cases`` cases: the benchmark database's name with ``_<cases>``."""
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_{cases}"))


def organization_sizes(cases: int) -> list[int]:
    """Members of each synthetic organization, largest first."""
    largest = min(LARGEST_ORGANIZATION, max(1, cases // 5))
    return [largest, max(1, largest // 2), max(1, largest // 10), max(1, largest // 100)]


def person_public_id(i: int) -> str:
    """The synthetic person ``i``'s public id (16 characters)."""
    return f"bp{i:014d}"


def case_public_id(i: int) -> str:
    """The synthetic case ``i``'s public id."""
    return f"bc{i:014d}"


def organization_public_id(k: int) -> str:
    """The synthetic organization ``k``'s public id."""
    return f"bo{k:014d}"


def _marker(url: str) -> tuple[int, int] | None:
    with psycopg.connect(libpq_url(url)) as conn:
        found = conn.execute("SELECT to_regclass('bench_seed')").fetchone()
        if not found or found[0] is None:
            return None
        row = conn.execute("SELECT version, cases FROM bench_seed").fetchone()
    return (int(row[0]), int(row[1])) if row else None


def prepare(base_url: str, cases: int, env: dict[str, str]) -> Seeded:
    """The database for ``cases`` cases: migrated, and loaded unless the marker already matches."""
    url = size_url(base_url, cases)
    ensure_database(url)
    sized_env = {**env, "MONITOR_DATABASE_URL": url}
    run_monitor(["init-db"], sized_env)
    seconds = 0.0
    seeded = _marker(url) != (SEED_VERSION, cases)
    if seeded:
        print(f"  loading {cases:,} synthetic cases with COPY into {url.rsplit('/', 1)[-1]} …")
        began = time.perf_counter()
        load(url, cases)
        seconds = time.perf_counter() - began
        print(f"  loaded in {seconds:.0f} s", flush=True)
    analyze(url)
    return Seeded(
        url, cases, seeded, seconds, organization_public_id(0), organization_sizes(cases)[0]
    )


_TABLES = [
    "status_event_sources",
    "charge_sources",
    "case_sources",
    "status_events",
    "charges",
    "memberships",
    "cases",
    "people",
    "organizations",
]


def load(url: str, cases: int, seed: int = 1) -> None:
    """Empty the register's tables and load ``cases`` synthetic cases (one transaction)."""
    rng = random.Random(seed)
    with psycopg.connect(libpq_url(url)) as conn:
        conn.execute("SET session_replication_role = replica")  # no triggers, no FK checks
        conn.execute(f"TRUNCATE {', '.join(_TABLES)} RESTART IDENTITY CASCADE")
        conn.execute("DROP TABLE IF EXISTS bench_seed")
        indexes = conn.execute(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
            """,
            (_TABLES,),
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        with conn.cursor() as cur:
            _copy(cur, "organizations", _organizations(cases))
            _copy(cur, "people", _people(rng, cases))
            _copy(cur, "cases", _cases(rng, cases))
            _copy(cur, "status_events", _events(rng, cases))
            _copy(cur, "charges", _charges(rng, cases))
            _copy(cur, "memberships", _memberships(rng, cases))
        for _, definition in indexes:
            conn.execute(definition)
        for table in (
            "organizations",
            "people",
            "cases",
            "status_events",
            "charges",
            "memberships",
        ):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        conn.execute("SET session_replication_role = DEFAULT")
        refresh_counts(conn)
        refresh_member_names(conn)
        conn.execute("CREATE TABLE bench_seed (version integer NOT NULL, cases integer NOT NULL)")
        conn.execute("INSERT INTO bench_seed VALUES (%s, %s)", (SEED_VERSION, cases))


def refresh_counts(conn: psycopg.Connection) -> None:
    """Recompute the count tables from the rows, when the schema has them."""
    found = conn.execute("SELECT to_regclass('case_counts')").fetchone()
    if not found or found[0] is None:
        return
    conn.execute("DELETE FROM case_counts")
    conn.execute("DELETE FROM organization_case_counts")
    conn.execute(
        """
        INSERT INTO case_counts (confidentiality, status, country, cases)
        SELECT confidentiality, status, country, count(*) FROM cases
        GROUP BY confidentiality, status, country
        """
    )
    conn.execute(
        """
        INSERT INTO organization_case_counts (organization_id, confidentiality, status, cases)
        SELECT o.organization_id, c.confidentiality, c.status, count(*)
        FROM cases c JOIN (SELECT DISTINCT person_id, organization_id FROM memberships) o
          ON o.person_id = c.person_id
        GROUP BY o.organization_id, c.confidentiality, c.status
        """
    )


def refresh_member_names(conn: psycopg.Connection) -> None:
    """Copy each person's name onto their memberships (as the triggers, off during ``COPY``,
    would have), when the schema has the column."""
    found = conn.execute(
        "SELECT 1 FROM information_schema.columns "
        "WHERE table_name = 'memberships' AND column_name = 'person_name'"
    ).fetchone()
    if found:
        conn.execute(
            "UPDATE memberships m SET person_name = p.name FROM people p WHERE p.id = m.person_id"
        )


def deep_case(url: str, position: int) -> str:
    """The public id of the case at ``position`` (from 0) of the list in its default order (by
    name, then case): the case a reader paging with Next reads the next page after."""
    with psycopg.connect(libpq_url(url)) as conn:
        row = conn.execute(
            "SELECT c.public_id FROM cases c JOIN people p ON p.id = c.person_id "
            "ORDER BY p.name, c.id OFFSET %s LIMIT 1",
            (position,),
        ).fetchone()
    if row is None:
        raise BenchError(f"the register holds fewer than {position + 1:,} cases")
    return str(row[0])


Row = tuple[object, ...]


def _copy(cur: psycopg.Cursor, table: str, rows: tuple[list[str], Iterator[Row]]) -> None:
    columns, values = rows
    began = time.perf_counter()
    n = 0
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        buffer = io.StringIO()
        for row in values:
            buffer.write("\t".join(_text(v) for v in row))
            buffer.write("\n")
            n += 1
            if n % BATCH == 0:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())
    print(f"    {table}: {n:,} rows in {time.perf_counter() - began:.1f} s", flush=True)


def _text(value: object) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value)


def _name(rng: random.Random, i: int) -> str:
    syllables = "".join(rng.choice(SYLLABLES) for _ in range(3))
    return f"Synthetic {syllables.title()} {i:07d}"


def _organizations(cases: int) -> tuple[list[str], Iterator[Row]]:
    columns = ["id", "public_id", "name", "short_name", "kind", "country", "seats", "created_at"]
    sizes = organization_sizes(cases)
    return columns, (
        (k + 1, organization_public_id(k), f"Synthetic Party {k}", f"SYN{k}", "political_party",
         COUNTRIES[k % len(COUNTRIES)], 100, _CREATED)
        for k in range(len(sizes))
    )  # fmt: skip


def _people(rng: random.Random, cases: int) -> tuple[list[str], Iterator[Row]]:
    columns = ["id", "public_id", "name", "aliases", "search_text", "created_at", "updated_at"]

    def rows() -> Iterator[Row]:
        for i in range(1, cases + 1):
            name = _name(rng, i)
            yield i, person_public_id(i), name, "[]", name.casefold(), _CREATED, _CREATED

    return columns, rows()


def _since(i: int) -> dt.date:
    return _DAY0 - dt.timedelta(days=1 + (i * 7919) % 3650)


def _status(i: int) -> str:
    return STATUSES[(i * 31) % len(STATUSES)]


def _cases(rng: random.Random, cases: int) -> tuple[list[str], Iterator[Row]]:
    columns = [
        "id", "public_id", "person_id", "country", "title", "status", "status_since",
        "status_since_precision", "confidentiality", "tags", "created_at", "updated_at",
    ]  # fmt: skip

    def rows() -> Iterator[Row]:
        for i in range(1, cases + 1):
            yield (
                i, case_public_id(i), i, rng.choice(COUNTRIES), f"Synthetic case {i}",
                _status(i), _since(i), "day", rng.choice(LEVELS), '["synthetic"]',
                _CREATED, _CREATED,
            )  # fmt: skip

    return columns, rows()


def _events(rng: random.Random, cases: int) -> tuple[list[str], Iterator[Row]]:
    columns = [
        "id", "public_id", "case_id", "status", "previous_status", "occurred_on",
        "occurred_precision", "occurred_about", "recorded_at", "certainty", "changed_current",
        "alerts_pending",
    ]  # fmt: skip
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    def rows() -> Iterator[Row]:
        n = 0
        for i in range(1, cases + 1):
            last = _status(i)
            chain = [rng.choice(STATUSES), rng.choice(STATUSES), last]
            since = _since(i)
            previous = None
            for step, status in enumerate(chain):
                n += 1
                occurred = since - dt.timedelta(days=(2 - step) * 30)
                recorded = base + dt.timedelta(seconds=n)
                yield (
                    n, f"be{n:014d}", i, status, previous, occurred, "day", False,
                    recorded.isoformat(), "unverified", True, False,
                )  # fmt: skip
                previous = status

    return columns, rows()


def _charges(rng: random.Random, cases: int) -> tuple[list[str], Iterator[Row]]:
    columns = [
        "id", "public_id", "case_id", "offence", "max_sentence_kind", "stage", "in_absentia",
        "created_at",
    ]  # fmt: skip

    def rows() -> Iterator[Row]:
        n = 0
        for i in range(1, cases + 1):
            for _ in range(rng.randint(1, 3)):
                n += 1
                offence = rng.choice(OFFENCES)
                yield n, f"bh{n:014d}", i, offence, "unknown", "charged", False, _CREATED

    return columns, rows()


def _memberships(rng: random.Random, cases: int) -> tuple[list[str], Iterator[Row]]:
    columns = ["id", "public_id", "person_id", "organization_id", "role"]
    sizes = organization_sizes(cases)

    def rows() -> Iterator[Row]:
        n = 0
        for k, size in enumerate(sizes):
            for person in sorted(rng.sample(range(1, cases + 1), size)):
                n += 1
                yield n, f"bm{n:014d}", person, k + 1, "member"

    return columns, rows()


def plain_csv_rows(url: str, write: Callable[[list[str]], object], limit: int) -> int:
    """The floor for the export: every case's main columns read with one plain ``SELECT`` (a
    server-side cursor) and written with ``csv.writer``; returns the rows written."""
    n = 0
    with psycopg.connect(libpq_url(url)) as conn, conn.cursor(name="plain_export") as cur:
        cur.itersize = 2000
        cur.execute(
            """
            SELECT c.public_id, p.name, coalesce(p.name_native, ''), c.country, c.title,
                   c.confidentiality, c.status, c.status_since::text,
                   (SELECT string_agg(offence, '; ') FROM charges h WHERE h.case_id = c.id)
            FROM cases c JOIN people p ON p.id = c.person_id ORDER BY c.id LIMIT %s
            """,
            (limit,),
        )
        for row in cur:
            write([str(v) if v is not None else "" for v in row])
            n += 1
    if not n:
        raise BenchError("the plain export read no case")
    return n
