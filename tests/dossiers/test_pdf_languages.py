"""The CNRP dossier in the language it was asked in (Khmer, French, Arabic), read with poppler.

Headings, the cover, the band, the footer and the document's metadata follow the dossier's
language; the Khmer name still extracts as typed; Arabic is laid out right to left.
"""

from __future__ import annotations

import re
import subprocess
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.extensions import db
from monitor.models import Organization
from tests.support.dossiers import Pdf, dossier, render_queued, request_via_web

# English headings and labels of the dossier: none may be left in a translated one.
ENGLISH = [
    "Contents",
    "Summary",
    "Sources",
    "Cases by current custody status",
    "Custody status",
    "Cases in this dossier",
    "Longest exposure",
    "People in this dossier",
    "Main charge",
    "Maximum exposure",
    "Profile",
    "Timeline",
    "Charges",
    "Persecuting country",
    "Data as of",
    "Issued by",
    "Page 1 of",
    "PUBLIC",
    "organization dossier",
    "This brief states",
    "may be shared",
    "Members in this dossier",
    "Cited for",
    "precision",
    "30 years",
    "at liberty",
    "house arrest",
]

EXPECTED = {
    "fr": {
        "title": "CNRP — dossier d’organisation",
        "words": [
            "Sommaire",
            "Résumé",
            "Sources",
            "Affaires par situation de détention actuelle",
            "Personnes dans ce dossier",
            "Peine encourue la plus lourde (inculpations en cours) : 30 ans — Kem Sokha",
            "Chronologie",
            "Inculpations",
            "Données au",
            "PUBLIC",
            "Cambodge",
        ],
        "footer": "Page 1 sur ",
    },
    "km": {
        "title": "CNRP — ឯកសារអង្គការ",
        "words": [
            "មាតិកា",
            "សេចក្ដីសង្ខេប",
            "ប្រភព",
            "ករណីតាមស្ថានភាពឃុំខ្លួនបច្ចុប្បន្ន",
            "មនុស្សក្នុងឯកសារនេះ",
            "កាលប្បវត្តិ",
            "ការចោទប្រកាន់",
            "ទិន្នន័យគិតត្រឹម",
            "សាធារណៈ",
            "30ឆ្នាំ",
            "កម្ពុជា",
        ],
        "footer": "ទំព័រ1នៃ",
    },
    "ar": {
        "title": "CNRP — ملف المنظمة",
        "words": [
            "المحتويات",
            "الملخص",
            "المصادر",
            "الأشخاص في هذا الملف",
            "التسلسل الزمني",
            "التهم",
            "البيانات حتى",
            "كمبوديا",
        ],
        "footer": "الصفحة 1 من",
    },
}


def _cnrp() -> Organization:
    return db.session.scalars(select(Organization).where(Organization.short_name == "CNRP")).one()


def _dossier_in(
    app: Flask, client: FlaskClient, read_pdf: type[Pdf], language: str
) -> tuple[Pdf, str]:
    cnrp = _cnrp()
    page = f"/organizations/{cnrp.public_id}"
    public_id = request_via_web(
        client, page, kind="organization", organization_id=cnrp.public_id, language=language
    )
    assert render_queued(app, public_id) == "ready"
    response = client.get(f"/dossiers/{public_id}/pdf")
    assert response.status_code == 200
    return read_pdf(response.data), public_id


def _flat(text: str) -> str:
    return re.sub(r"[\s\u200e\u200f\u202a-\u202e]", "", text)


@pytest.mark.parametrize("language", ["fr", "km", "ar"])
def test_cnrp_dossier_reads_in_the_language_it_was_asked_in(  # noqa: PLR0917 - fixtures
    app: Flask,
    viewer_client: FlaskClient,
    demo: dict[str, str],
    read_pdf: type[Pdf],
    noto_fonts: None,
    language: str,
) -> None:
    pdf, public_id = _dossier_in(app, viewer_client, read_pdf, language)
    expected = EXPECTED[language]
    text, words, flat = pdf.text, pdf.words, pdf.flat

    for word in expected["words"]:
        assert _flat(word) in flat if language == "km" else word in words, word
    assert _flat(expected["footer"]) in flat
    for english in ENGLISH:
        if english == "Sources" and language == "fr":
            continue  # the same word in French
        if english == "PUBLIC" and language == "fr":
            continue
        assert english not in text, english
    # The Khmer name is extracted as typed (replacement text), whatever the dossier's language.
    assert "កឹម សុខា" in text
    # The names and the register's own text stay as recorded.
    assert "Kem Sokha" in words
    assert "CNRP MPs flee ‘dictator’" in words
    # Metadata: the title in the language, and the catalog's /Lang.
    assert pdf.info["Title"] == expected["title"] == dossier(public_id).title
    assert re.search(rb"/Lang\s*\(" + language.encode() + rb"\)", pdf.objects())


def _bbox_words(pdf: Pdf, page: int) -> list[tuple[float, float, float, str]]:
    """(xMin, xMax, yMin, word) of every word on ``page`` as ``pdftotext -bbox`` places it."""
    path = pdf.tmp / "bbox.pdf"
    path.write_bytes(pdf.data)
    html = subprocess.run(
        ["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [
        (float(x_min), float(x_max), float(y_min), unescape(word))
        for x_min, y_min, x_max, word in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>',
            html,
        )
    ]


def _placed(
    words: list[tuple[float, float, float, str]], word: str
) -> list[tuple[float, float, float]]:
    """Where ``word`` is (xMin, xMax, yMin), top first; poppler writes Arabic words in visual
    order, their letters reversed."""
    return sorted(
        ((x0, x1, y0) for x0, x1, y0, found in words if found in (word, word[::-1])),
        key=lambda place: place[2],
    )


def test_arabic_dossier_runs_right_to_left(
    app: Flask,
    viewer_client: FlaskClient,
    demo: dict[str, str],
    read_pdf: type[Pdf],
    noto_fonts: None,
) -> None:
    arabic, _ = _dossier_in(app, viewer_client, read_pdf, "ar")
    french, _ = _dossier_in(app, viewer_client, read_pdf, "fr")
    width = float(re.split(r"\s+", arabic.info["Page size"])[0])

    # The contents heading ends at the right edge of the text in Arabic, as far from the page's
    # right edge as the French one starts from its left edge: the page is mirrored.
    [(_, contents_end, _)] = _placed(_bbox_words(arabic, 1), "المحتويات")
    [(sommaire_start, _, _)] = _placed(_bbox_words(french, 1), "Sommaire")
    assert width - contents_end == pytest.approx(sommaire_start, abs=1)
    assert contents_end > width / 2
    # On the cover, each label stands right of its value (the fact columns are mirrored too).
    words = _bbox_words(arabic, 1)
    # "Data as of" and its time: the first label of the cover's facts, on the first UTC's line.
    (_, value_end, line), *_ = _placed(words, "UTC")
    [(label_start, _, _)] = [p for p in _placed(words, "البيانات") if abs(p[2] - line) < 1]
    assert label_start > value_end
    # The text reads in Arabic from its first line: the band, then the title.
    assert "\u202b" in arabic.text  # poppler marks the right-to-left lines it found
