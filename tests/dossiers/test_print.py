"""Dossiers a diplomat can print: read back from real PDFs with poppler (issue 16, part 3).

Margins on A4 and US Letter, the first-page brief, the confidentiality band on every page, sources
printed once, no sum of different people's sentences, a tagged PDF with /Lang and bookmarks, and
bold Khmer that copies as typed.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.config import ConfigError, Settings
from monitor.domain import PartialDate, Sentence, SentenceKind
from monitor.extensions import db
from monitor.models import Case, Organization, Person
from monitor.pdf import content_key
from monitor.pdf.actual_text import needs_actual_text
from monitor.services import cases, charges, dossiers, people
from tests.support.dossiers import Pdf, dossier, request_via_web

MM = 72 / 25.4
SIDE_MARGIN = 17 * MM  # templates/pdf/assets/dossier.css: @page margin, left and right
PAPER = {"A4": (595.276, 841.89), "Letter": (612.0, 792.0)}
# The band colours of templates/pdf (monitor/pdf/html.py BANDS), as pdftoppm paints them.
BAND_RGB = {"public": (0x06, 0x76, 0x47), "confidential": (0xB4, 0x23, 0x18)}
QUOTE = "Last month, acting party leader Kem Sokha was jailed on treason charges"
SOURCE_TITLE = "CNRP MPs flee ‘dictator’"


def _cnrp() -> Organization:
    return db.session.scalars(select(Organization).where(Organization.short_name == "CNRP")).one()


def _case(public_id: str) -> Case:
    return db.session.scalars(select(Case).where(Case.public_id == public_id)).one()


def _rendered(
    app: Flask,
    client: FlaskClient,
    read_pdf: type[Pdf],
    page: str,
    page_size: str = "A4",
    **fields: str,
) -> Pdf:
    """Request a dossier through the web button and render it as the worker does, on ``page_size``
    paper (the ``MONITOR_DOSSIER_PAGE_SIZE`` setting)."""
    public_id = request_via_web(client, page, **fields)
    settings = dataclasses.replace(app.config["SETTINGS"], dossier_page_size=page_size)
    assert dossiers.produce(public_id, settings, db.session.commit) == "ready"
    data = dossier(public_id).pdf
    assert data is not None
    return read_pdf(data)


def _organization_dossier(
    app: Flask, client: FlaskClient, read_pdf: type[Pdf], page_size: str = "A4", **fields: str
) -> Pdf:
    cnrp = _cnrp()
    page = f"/organizations/{cnrp.public_id}"
    return _rendered(
        app,
        client,
        read_pdf,
        page,
        page_size,
        kind="organization",
        organization_id=cnrp.public_id,
        **fields,
    )


def _case_dossier(
    app: Flask, client: FlaskClient, read_pdf: type[Pdf], case_id: str, page_size: str = "A4"
) -> Pdf:
    page = f"/cases/{case_id}"
    return _rendered(app, client, read_pdf, page, page_size, kind="case", case_id=case_id)


def _pages(pdf: Pdf) -> int:
    return int(pdf.info["Pages"])


def _page_text(pdf: Pdf, number: int) -> str:
    path = pdf.tmp / "page.pdf"
    path.write_bytes(pdf.data)
    return subprocess.run(
        ["pdftotext", "-f", str(number), "-l", str(number), str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _words(pdf: Pdf) -> list[tuple[int, float, float, str]]:
    """Every word poppler finds: (page, xMin, xMax, text)."""
    path = pdf.tmp / "words.pdf"
    path.write_bytes(pdf.data)
    html = subprocess.run(
        ["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    words = []
    for number, page in enumerate(html.split("<page ")[1:], 1):
        for x_min, x_max, text in re.findall(
            r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>',
            page,
        ):
            words.append((number, float(x_min), float(x_max), text))
    return words


def _pixel(pdf: Pdf, page: int, x_pt: float, y_pt: float) -> tuple[int, int, int]:
    """The colour ``pdftoppm`` paints at a point of a page (72 dpi, so 1 px per point)."""
    path = pdf.tmp / "pixel.pdf"
    path.write_bytes(pdf.data)
    ppm = subprocess.run(
        ["pdftoppm", "-r", "72", "-f", str(page), "-l", str(page), str(path)],
        capture_output=True,
        check=True,
    ).stdout
    header = re.match(rb"P6\s+(\d+)\s+(\d+)\s+255\s", ppm)
    assert header, ppm[:20]
    width = int(header.group(1))
    offset = header.end() + (int(y_pt) * width + int(x_pt)) * 3
    red, green, blue = ppm[offset : offset + 3]
    return red, green, blue


def _add_five_year_charge(case_id: str) -> None:
    charges.add_charge(
        "test",
        _case(case_id),
        charges.ChargeInput(
            offence="Incitement",
            # One long unbreakable token: it must wrap inside its cell, not run off the page.
            legal_basis="Criminal-Code-of-the-Kingdom-of-Cambodia-article-495-and-following",
            max_sentence=Sentence(SentenceKind.TERM, 60),
        ),
    )
    db.session.commit()


@pytest.mark.parametrize("page_size", ["A4", "Letter"])
@pytest.mark.parametrize("kind", ["case", "organization"])
def test_every_word_stays_inside_the_side_margins(
    app: Flask,
    editor_client: FlaskClient,
    demo: dict[str, str],
    read_pdf: type[Pdf],
    *,
    kind: str,
    page_size: str,
) -> None:
    _add_five_year_charge(demo["Kem Sokha"])
    if kind == "case":
        pdf = _case_dossier(app, editor_client, read_pdf, demo["Kem Sokha"], page_size)
    else:
        pdf = _organization_dossier(app, editor_client, read_pdf, page_size)

    width, height = PAPER[page_size]
    assert pdf.info["Page size"].startswith(f"{width:g} x {height:g} pts"), pdf.info["Page size"]
    words = _words(pdf)
    table_words = {"Sources", "absentia", "exposure", "Criminal-Code-of-the-Kingdom-of-"}
    assert table_words & {text for _, _, _, text in words}  # the tables' right-hand columns
    outside = [
        (page, round(x_min, 1), round(x_max, 1), text)
        for page, x_min, x_max, text in words
        if x_max > width - SIDE_MARGIN + 0.5 or x_min < SIDE_MARGIN - 0.5
    ]
    assert not outside, f"right margin at {width - SIDE_MARGIN:.1f} pt: {outside}"


def test_page_size_setting_reads_a4_or_letter(tmp_path: Path) -> None:
    base = {
        "MONITOR_ENV": "testing",
        "MONITOR_SECRET_KEY": "k" * 40,
        "MONITOR_INSTANCE_PATH": str(tmp_path),
    }
    assert Settings.from_env(base).dossier_page_size == "A4"
    letter = Settings.from_env({**base, "MONITOR_DOSSIER_PAGE_SIZE": "letter"})
    assert letter.dossier_page_size == "Letter"
    with pytest.raises(ConfigError, match="MONITOR_DOSSIER_PAGE_SIZE"):
        Settings.from_env({**base, "MONITOR_DOSSIER_PAGE_SIZE": "A5"})


def test_a_letter_dossier_never_reuses_an_a4_pdf(app: Flask, demo: dict[str, str]) -> None:
    from monitor.domain import Confidentiality
    from monitor.services.dossiers import scope
    from tests.support.accounts import make_user

    user = make_user("viewer", "public", email="paper@example.org")
    content = scope.load_case(user, demo["Kem Sokha"], Confidentiality.PUBLIC, "t")
    letter = dataclasses.replace(content, page_size="Letter")
    assert content.page_size == "A4"
    assert content_key(letter) != content_key(content)


@pytest.mark.parametrize("page_size", ["A4", "Letter"])
def test_small_organization_dossier_puts_cover_contents_and_summary_on_page_one(
    app: Flask,
    viewer_client: FlaskClient,
    demo: dict[str, str],
    read_pdf: type[Pdf],
    page_size: str,
) -> None:
    pdf = _organization_dossier(app, viewer_client, read_pdf, page_size)
    first = " ".join(_page_text(pdf, 1).split())

    for expected in [
        "CNRP — organization dossier",  # the cover
        "Members in this dossier 3",
        "Contents",
        "Summary",
        "Cases by current custody status",
        "Longest exposure (open charges)",
        "People in this dossier",
        "Kem Sokha",
        "Mao Monyvann",
        "Mu Sochua",
    ]:
        assert expected in first, expected
    assert "Profile" not in first  # the cases start on the next page
    assert "Profile" in _page_text(pdf, 2)
    assert _pages(pdf) <= 3


@pytest.mark.parametrize("audience", ["public", "confidential"])
def test_confidentiality_band_heads_every_page(
    app: Flask,
    admin_client: FlaskClient,
    demo: dict[str, str],
    read_pdf: type[Pdf],
    audience: str,
) -> None:
    cnrp = _cnrp()
    for n in range(1, 9):  # enough members for several pages
        person = people.create_person("test", people.PersonInput(name=f"Band Member {n}"))
        people.add_membership("test", person, cnrp, "Member of Parliament")
        cases.create_case(
            "test",
            person,
            cases.CaseInput(country="KH", title=f"Band case {n}", summary="A long account. " * 60),
            cases.StatusInput(status="jailed", occurred_on=PartialDate.parse("2018-01")),
        )
    db.session.commit()
    pdf = _organization_dossier(app, admin_client, read_pdf, audience=audience)

    pages = _pages(pdf)
    assert pages >= 3
    level = audience.upper()
    for number in range(1, pages + 1):
        header = _page_text(pdf, number).lstrip().splitlines()[0]
        assert header.startswith(f"{level} · CNRP — organization dossier"), (number, header)
        # The band is painted in the level's colour behind the text, not just written.
        red, green, blue = _pixel(pdf, number, SIDE_MARGIN + 1, 9 * MM + 1)
        expected = BAND_RGB[audience]
        assert max(abs(red - expected[0]), abs(green - expected[1]), abs(blue - expected[2])) < 12


def test_a_source_cited_by_several_cases_is_printed_once_with_its_references(
    app: Flask, viewer_client: FlaskClient, demo: dict[str, str], read_pdf: type[Pdf]
) -> None:
    pdf = _organization_dossier(app, viewer_client, read_pdf)
    text = pdf.words

    # The demo's AFP report backs all three cases (events, a charge, the cases themselves).
    assert text.count(QUOTE) == 1
    assert text.count(SOURCE_TITLE) == 1
    assert (
        "Cited for: Kem Sokha (timeline, charges, case summary); "
        "Mao Monyvann (timeline, case summary); "
        "Mu Sochua (timeline, case summary)"
    ) in text
    assert text.count("Sources: [1] (listed under Sources at the end)") == 3


def test_group_exposure_is_the_longest_and_per_person_never_a_sum(
    app: Flask, viewer_client: FlaskClient, demo: dict[str, str], read_pdf: type[Pdf]
) -> None:
    _add_five_year_charge(demo["Mu Sochua"])  # Kem Sokha faces 30 years; the sum would be 35
    pdf = _organization_dossier(app, viewer_client, read_pdf)
    text = pdf.words

    assert "Longest exposure (open charges): 30 years — Kem Sokha" in text
    assert "added up" not in text
    assert "Total maximum exposure" not in text
    assert "35 years" not in text
    table = text[text.index("People in this dossier") :]
    assert re.search(r"Kem Sokha .*? Treason 30 years", table)
    assert re.search(r"Mu Sochua .*? Incitement 5 years", table)


def test_pdf_is_tagged_with_language_and_bookmarks(
    app: Flask, viewer_client: FlaskClient, demo: dict[str, str], read_pdf: type[Pdf]
) -> None:
    pdf = _organization_dossier(app, viewer_client, read_pdf)

    assert pdf.info["Tagged"] == "yes"
    objects = pdf.objects()
    assert re.search(rb"/Lang\s*\(en\)", objects)
    assert b"/StructTreeRoot" in objects
    assert b"pdfuaid" in objects  # the PDF/UA-1 identification in the XMP metadata
    path = pdf.tmp / "struct.pdf"
    path.write_bytes(pdf.data)
    structure = subprocess.run(
        ["pdfinfo", "-struct", str(path)], capture_output=True, text=True, check=True
    ).stdout
    for tag in ("H1", "H2", "Table", "TH", "TD", "L", "LI"):
        assert re.search(rf"^\s*{tag}\b", structure, re.MULTILINE), tag
    # Bookmarks: the outline holds the title, the sections and every case.
    assert b"/Outlines" in objects
    titles = [
        bytes.fromhex(h.decode()).decode("utf-16")
        for h in re.findall(rb"/Title\s*<([Ff][Ee][Ff][Ff][0-9A-Fa-f]*)>", objects)
    ] + [t.decode("latin-1") for t in re.findall(rb"/Title\s*\(([^)]*)\)", objects)]
    for title in ["Contents", "Summary", "Mao Monyvann", "Mu Sochua", "Sources"]:
        assert title in titles, titles
    assert "Kem Sokha · កឹម សុខា" in titles, titles


def test_bold_khmer_heading_extracts_exactly_as_stored(
    app: Flask,
    editor_client: FlaskClient,
    demo: dict[str, str],
    read_pdf: type[Pdf],
    noto_fonts: None,
) -> None:
    case = _case(demo["Kem Sokha"])
    person = db.session.get(Person, case.person_id)
    assert person is not None
    stored = person.name_native
    assert stored == "កឹម សុខា"
    pdf = _case_dossier(app, editor_client, read_pdf, case.public_id)

    lines = [line.strip() for line in pdf.text.splitlines()]
    assert f"Kem Sokha · {stored}" in lines  # the bold case heading, as typed: no stray space
    assert "Kem Sokha · កឹ ម សុខា" not in pdf.text
    # Still bold: the fix is replacement text, not a lighter face.
    assert "Noto-Sans-Khmer-Bold" in pdf.fonts


def test_bold_burmese_heading_extracts_exactly_as_stored(
    app: Flask, editor_client: FlaskClient, read_pdf: type[Pdf], noto_fonts: None
) -> None:
    native = "အောင်ဆန်းစုကြည်"
    person = people.create_person(
        "test", people.PersonInput(name="Aung San Suu Kyi", name_native=native)
    )
    case = cases.create_case(
        "test",
        person,
        cases.CaseInput(country="MM", title="Aung San Suu Kyi: detained"),
        cases.StatusInput(status="jailed", occurred_on=PartialDate.parse("2021-02-01")),
    )
    db.session.commit()
    pdf = _case_dossier(app, editor_client, read_pdf, case.public_id)

    lines = [line.strip() for line in pdf.text.splitlines()]
    assert f"Aung San Suu Kyi · {native}" in lines


@pytest.mark.parametrize(
    ("text", "replaced"),
    [
        ("កឹម សុខា", True),  # Khmer vowel signs are combining marks
        ("အောင်ဆန်းစုကြည်", True),
        ("Kem Sokha", False),  # plain Latin: extractors read it well already
        ("مُحَمَّد", False),  # right to left: extractors would reverse replacement text
    ],
)
def test_replacement_text_is_given_to_left_to_right_text_with_marks(
    text: str, *, replaced: bool
) -> None:
    assert needs_actual_text(text) is replaced
