"""Issue 17, parts 5 and 6: members without a case, no destructive empty cells, identifiers and
the new columns, the separator detected, file-level problems about "the file"."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from flask import Flask, current_app
from sqlalchemy import func, select

from monitor.config import Settings
from monitor.extensions import db
from monitor.models import Case, Membership, Person, PersonIdentifier, User
from monitor.services import exports, imports
from tests.support.accounts import make_user

MEMBER_COLUMNS = [
    "name",
    "name_native",
    "gender",
    "birth_date",
    "identifiers",
    "organization",
    "role",
    "membership_start",
    "membership_end",
    "area",
]


def settings() -> Settings:
    found: Settings = current_app.config["SETTINGS"]
    return found


def as_csv(columns: list[str], rows: list[list[str]], delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue().encode()


@pytest.fixture
def editor(demo: dict[str, str]) -> User:
    return make_user("editor", "confidential")


@pytest.fixture
def run_import(editor: User) -> Callable[[bytes], dict[str, int]]:
    def run(data: bytes) -> dict[str, int]:
        report = imports.check(data, editor, settings())
        assert report.ok, [str(p) for p in report.problems]
        summary = imports.apply(editor, report, sha256="test")
        db.session.commit()
        return summary

    return run


def person_named(name: str) -> Person:
    return db.session.scalars(select(Person).where(Person.name == name)).one()


def test_a_member_list_records_members_without_any_case_and_a_second_import_is_a_no_op(
    app: Flask, run_import: Callable[[bytes], dict[str, int]]
) -> None:
    cases_before = db.session.scalar(select(func.count(Case.id)))
    data = as_csv(
        MEMBER_COLUMNS,
        [
            [
                "Ou Chanrath",
                "",
                "M",
                "1970",
                "wikidata:Q7110001",
                "CNRP",
                "MP",
                "2013",
                "",
                "Takeo",
            ],
            ["Pin Ratana", "", "woman", "", "wikidata:Q7110002", "CNRP", "MP", "2013-09", "", ""],
        ],
    )

    first = run_import(data)
    second = run_import(data)

    assert first["create"] == 2
    assert second == {"rows": 2, "create": 0, "update": 0, "unchanged": 2, "status_events": 0}
    assert db.session.scalar(select(func.count(Case.id))) == cases_before  # no status invented
    chanrath = person_named("Ou Chanrath")
    assert chanrath.cases == []
    assert chanrath.gender == "male"
    assert chanrath.birth is not None
    assert chanrath.birth.iso() == "1970"
    assert [(i.scheme, i.identifier) for i in chanrath.identifiers] == [("wikidata", "Q7110001")]
    (membership,) = chanrath.memberships
    assert (membership.role, membership.area) == ("MP", "Takeo")
    assert membership.start is not None
    assert membership.start.iso() == "2013"
    assert person_named("Pin Ratana").gender == "female"


def test_empty_cells_keep_values_and_a_dash_clears_them(
    app: Flask, demo: dict[str, str], run_import: Callable[[bytes], dict[str, int]]
) -> None:
    sokha = db.session.scalars(select(Case).where(Case.public_id == demo["Kem Sokha"])).one()
    title, native = sokha.title, sokha.person.name_native
    assert native
    columns = ["external_id", "name", "name_native", "title", "aliases", "country"]
    columns += ["status", "status_date"]
    run_import(as_csv(columns, [[sokha.public_id, "Kem Sokha", "", "", "", "", "", ""]]))
    db.session.expire_all()
    assert (sokha.title, sokha.person.name_native) == (title, native)
    assert sokha.external_id is None

    run_import(as_csv(columns, [[sokha.public_id, "Kem Sokha", "-", "", "", "", "", ""]]))
    db.session.expire_all()
    assert sokha.person.name_native is None
    assert sokha.title == title


def test_a_differing_name_of_a_matched_person_becomes_an_alias(
    app: Flask, demo: dict[str, str], run_import: Callable[[bytes], dict[str, int]]
) -> None:
    case = db.session.scalars(select(Case).where(Case.public_id == demo["Mao Monyvann"])).one()
    run_import(as_csv(["external_id", "name"], [[case.public_id, "Mao Monivann"]]))
    db.session.expire_all()
    assert case.person.name == "Mao Monyvann"
    assert "Mao Monivann" in case.person.aliases


def test_a_member_row_finds_the_registered_person_by_identifier(
    app: Flask, demo: dict[str, str], editor: User, run_import: Callable[[bytes], dict[str, int]]
) -> None:
    case = db.session.scalars(select(Case).where(Case.public_id == demo["Kem Sokha"])).one()
    person = case.person
    db.session.add(PersonIdentifier(person=person, scheme="wikidata", identifier="Q3194965"))
    db.session.commit()
    people_before = db.session.scalar(select(func.count(Person.id)))

    summary = run_import(
        as_csv(
            ["name", "identifiers", "organization", "area"],
            [["Kem Sokha", "wikidata:Q3194965; everypolitician:abc-1", "CNRP", "Kampong Cham"]],
        )
    )

    assert summary["create"] == 0
    assert db.session.scalar(select(func.count(Person.id))) == people_before
    db.session.expire_all()
    assert sorted((i.scheme, i.identifier) for i in person.identifiers) == [
        ("everypolitician", "abc-1"),
        ("wikidata", "Q3194965"),
    ]
    cnrp = {m.role: m.area for m in person.memberships if m.organization.short_name == "CNRP"}
    assert cnrp["member"] == "Kampong Cham"


def test_an_identifier_held_by_someone_else_is_refused_naming_them(
    app: Flask, demo: dict[str, str], editor: User
) -> None:
    sochua = db.session.scalars(select(Case).where(Case.public_id == demo["Mu Sochua"])).one()
    db.session.add(PersonIdentifier(person=sochua.person, scheme="wikidata", identifier="Q1"))
    db.session.commit()
    data = as_csv(
        ["external_id", "name", "identifiers"], [[demo["Kem Sokha"], "Kem Sokha", "wikidata:Q1"]]
    )
    problems = imports.check(data, editor, settings()).problems
    assert [(p.row, p.column) for p in problems] == [(2, "identifiers")]
    assert "wikidata:Q1 is already held by Mu Sochua" in problems[0].message


def test_a_new_case_for_a_person_named_by_an_identifier_is_theirs(
    app: Flask, demo: dict[str, str], run_import: Callable[[bytes], dict[str, int]]
) -> None:
    sochua = db.session.scalars(select(Case).where(Case.public_id == demo["Mu Sochua"])).one()
    db.session.add(PersonIdentifier(person=sochua.person, scheme="wikidata", identifier="Q1"))
    db.session.commit()
    people_before = db.session.scalar(select(func.count(Person.id)))
    data = as_csv(
        ["external_id", "name", "identifiers", "country", "status", "status_date"],
        [["X-1", "Mu Sochua", "wikidata:Q1", "KH", "fled", "2020"]],
    )
    assert run_import(data)["create"] == 1
    assert db.session.scalar(select(func.count(Person.id))) == people_before
    new = db.session.scalars(select(Case).where(Case.external_id == "X-1")).one()
    assert new.person_id == sochua.person_id


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_separated_files_are_read(
    app: Flask, run_import: Callable[[bytes], dict[str, int]], delimiter: str
) -> None:
    data = as_csv(["name", "organization"], [["Sam Rainsy Junior", "CNRP"]], delimiter)
    assert run_import(data)["create"] == 1
    assert person_named("Sam Rainsy Junior").memberships[0].organization.short_name == "CNRP"


def test_a_row_with_charges_but_no_status_is_refused_and_a_bad_gender_named(
    app: Flask, editor: User
) -> None:
    data = as_csv(
        ["name", "gender", "charge_1_offence"],
        [["Nobody", "mail", "Treason"]],
    )
    problems = {(p.row, p.column) for p in imports.check(data, editor, settings()).problems}
    assert problems == {(2, "gender"), (2, "status")}


def test_file_level_problems_name_the_file_not_row_0(app: Flask, editor: User) -> None:
    (problem,) = imports.check(b"name\n", editor, settings()).problems
    assert str(problem) == "The file has a header row but no data rows."


def test_the_export_carries_identifiers_and_the_template_the_new_columns(
    app: Flask, demo: dict[str, str], editor: User
) -> None:
    case = db.session.scalars(select(Case).where(Case.public_id == demo["Kem Sokha"])).one()
    db.session.add(PersonIdentifier(person=case.person, scheme="wikidata", identifier="Q3194965"))
    db.session.commit()
    rows = list(csv.DictReader(io.StringIO("".join(exports.cases_csv(editor)).lstrip("\ufeff"))))
    sokha = next(r for r in rows if r["external_id"] == case.public_id)
    assert sokha["identifiers"] == "wikidata:Q3194965"
    template = next(csv.reader(io.StringIO(exports.template_csv().lstrip("\ufeff"))))
    for column in ("identifiers", "membership_start", "membership_end", "area", "birth_date"):
        assert column in template
    assert db.session.scalar(select(func.count(Membership.id))) > 0
