"""The CSV import in the importer's language (issue 18): status, gender and other listed values
written in French, Khmer or Arabic labels (any case, with or without accents) import as their
codes through the web (the page's language) and the command line (``--language``); a wrong
value is refused in the importer's language; and the Data page, a CSV preview with a probable
match and a Popolo preview read in Khmer, French and Arabic with none of their English left."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from monitor.domain import (
    Certainty,
    Confidentiality,
    CustodyStatus,
    LegalStage,
    Sentence,
    SentenceKind,
)
from monitor.extensions import db
from monitor.models import Case
from monitor.presentation.translation import using_language
from monitor.presentation.wording import sentence_text
from monitor.services.csv_format import (
    Gender,
    choice_words,
    parse_choice,
    parse_sentence,
    template_header,
)
from monitor.web.i18n import LANGUAGE_COOKIE
from tests.bulk.test_popolo_import import CAMBODIA, upload_popolo
from tests.bulk.test_web_api import confirm, post_file, upload
from tests.support.accounts import client_for
from tests.support.imports import csv_bytes, mp

LANGUAGES = ("fr", "km", "ar")
# Languages not written in Latin letters: no Latin word of the page's own may be left.
NON_LATIN = ("km", "ar")
# English sentences of these pages (a French page must have none of them).
ENGLISH = [
    "Data in and out",
    "Import cases from a spreadsheet",
    "The person's gender",
    "Check the file",
    "Probably the same person",
    "Someone new: keep them apart",
    "The file checks out",
    "Nothing is written until you confirm",
    "Uploaded",
    "State:",
    ">create<",
    "same name",
    "similar name",
]
# French words each page has.
FRENCH = {
    "data": ["Import et export des données", "Le genre de la personne", "détenu (<code>jailed"],
    "preview": ["Probablement la même personne", "Une nouvelle personne : la garder à part"],
    "popolo": ["Le fichier est valide :", "Reconnues : déjà dans le registre"],
}
# A status label and gender label in each language, as its catalog words them.
LABELS = {
    "fr": ("DETENU", "féminin"),  # accents and case left out
    "km": ("ជាប់ពន្ធនាគារ", "ស្រី"),
    "ar": ("مسجون", "أنثى"),
}
# What a wrong value's problem says in each language.
WRONG = {"fr": "doit être l’un de", "km": "ត្រូវតែជាមួយក្នុងចំណោម", "ar": "يجب أن تكون إحدى القيم"}
# Latin words a translated page may keep: formats, standards, codes, names of the demo's data.
ALLOWED = {
    "CSV", "JSON", "API", "Popolo", "EveryPolitician", "Wikidata", "UTF", "SHA", "ISO",
    "YYYY", "MM", "DD", "URL", "http", "https", "Cambodia", "NUL", "KH", "UTC",
}  # fmt: skip


def editor_in(app: Flask, language: str) -> FlaskClient:
    client = client_for(app, "editor")
    client.set_cookie(LANGUAGE_COOKIE, language)
    return client


def checked_page(editor: FlaskClient, rows: list[dict[str, str]]) -> str:
    """The page an uploaded file's check leads to (its problems, if any)."""
    response = post_file(editor, csv_bytes(rows), "mps.csv")
    return editor.get(response.headers["Location"]).get_data(as_text=True)


def case_of(external_id: str) -> Case:
    db.session.expire_all()
    return db.session.query(Case).filter_by(external_id=external_id).one()


def leftover_english(page: str, data: list[str]) -> list[str]:
    """Latin words of three letters or more left on a page once its markup, its code samples,
    its isolated data values (``<bdi>``) and the given data values are taken out."""
    found = re.search(r"<main\b[^>]*>(.*)</main>", page, flags=re.S)
    body = found.group(1) if found else page
    body = re.sub(r"<(script|style|code|bdi)\b.*?</\1>", " ", body, flags=re.S)
    body = re.sub(r'<span class="native-name".*?</span>', " ", body, flags=re.S)
    body = html.unescape(re.sub(r"<[^>]+>", " ", body))
    for value in sorted(data, key=len, reverse=True):
        body = body.replace(value, " ")
    words = re.findall(r"[A-Za-z]{3,}", body)
    return sorted({w for w in words if w not in ALLOWED})


def check_language(page: str, language: str, which: str, data: list[str]) -> None:
    """The page is in ``language``: no English sentence of it left (no Latin word at all in
    Khmer and Arabic, data aside); a French page has its French words."""
    assert f'<html lang="{language}"' in page
    found = [sentence for sentence in ENGLISH if sentence in page]
    assert found == []
    if language in NON_LATIN:
        assert leftover_english(page, data) == []
    else:
        for words in FRENCH[which]:
            assert words in page


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_file_in_the_importers_language_imports_through_the_web(
    app: Flask, demo: dict[str, str], language: str
) -> None:
    status, gender = LABELS[language]
    editor = editor_in(app, language)
    row = mp(1, status=status, gender=gender)
    page = confirm(editor, upload(editor, csv_bytes([row])))
    assert 'id="import-done"' in page
    case = case_of("CNRP-01")
    assert (case.status, case.person.gender) == ("jailed", "female")


# Cambodia as Babel's locale data names it in each language, written as a monitor might.
CAMBODIA_IN = {"fr": "cambodge", "km": "កម្ពុជា", "ar": "كمبوديا"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_country_named_in_the_importers_language_imports_as_its_code(
    app: Flask, demo: dict[str, str], language: str
) -> None:
    editor = editor_in(app, language)
    row = mp(1, country=CAMBODIA_IN[language], nationality=CAMBODIA_IN[language])
    page = confirm(editor, upload(editor, csv_bytes([row])))
    assert 'id="import-done"' in page
    case = case_of("CNRP-01")
    assert (case.country, case.person.nationality) == ("KH", "KH")
    # In another language the name is not a country: refused, nothing imported.
    editor.set_cookie(LANGUAGE_COOKIE, "fr" if language != "fr" else "km")
    refused = checked_page(editor, [mp(2, country=CAMBODIA_IN[language])])
    assert "<td>country</td>" in refused


# A maximum sentence as each language's screens word it, and the months it means.
SENTENCES = {
    "fr": [("5 ans et 6 mois", 66), ("30 ans", 360), ("1 an", 12), ("18 mois", 18)],
    "km": [("5 ឆ្នាំ 6 ខែ", 66), ("៣០ ឆ្នាំ", 360), ("18 ខែ", 18)],
    "ar": [("5 سنوات و6 أشهر", 66), ("30 سنة", 360), ("\u0663\u0660 سنة", 360), ("11 شهرًا", 11)],
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_sentence_in_the_importers_language_imports(
    app: Flask, demo: dict[str, str], language: str
) -> None:
    """What the case page shows as a maximum sentence, typed back into a file, imports as the
    same sentence; so do the words of life imprisonment; the English words still work."""
    editor = editor_in(app, language)
    rows = [mp(n, charge_1_max_sentence=text) for n, (text, _) in enumerate(SENTENCES[language], 1)]
    with app.app_context(), using_language(language):
        life = sentence_text(Sentence(SentenceKind.LIFE))
        shown = sentence_text(Sentence(SentenceKind.TERM, 42))  # 3 years 6 months, as on screen
    rows += [mp(8, charge_1_max_sentence=life or ""), mp(9, charge_1_max_sentence=shown or "")]
    rows.append(mp(10, charge_1_max_sentence="20 years"))
    page = confirm(editor, upload(editor, csv_bytes(rows)))
    assert 'id="import-done"' in page
    expected = [months for _, months in SENTENCES[language]]
    for n, months in enumerate(expected, 1):
        assert case_of(f"CNRP-{n:02d}").charges[0].max_sentence == Sentence(
            SentenceKind.TERM, months
        )
    assert case_of("CNRP-08").charges[0].max_sentence == Sentence(SentenceKind.LIFE)
    assert case_of("CNRP-09").charges[0].max_sentence == Sentence(SentenceKind.TERM, 42)
    assert case_of("CNRP-10").charges[0].max_sentence == Sentence(SentenceKind.TERM, 240)


# A sentence's problem in each language names how its screens write one.
NOT_A_SENTENCE = {"fr": "comme à l’écran ('30 ans'", "km": "'30 ឆ្នាំ'", "ar": "'30 سنة'"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_sentence_that_is_none_is_refused_with_the_languages_examples(
    app: Flask, demo: dict[str, str], language: str
) -> None:
    editor = editor_in(app, language)
    before = db.session.query(Case).count()
    rows = [mp(1), mp(2, charge_1_max_sentence="30 ans 30 ans de plus")]
    page = html.unescape(checked_page(editor, rows))
    assert "<td>charge_1_max_sentence</td>" in page
    assert NOT_A_SENTENCE[language] in page
    assert db.session.query(Case).count() == before


def test_the_words_of_one_language_are_not_read_in_another(
    app: Flask, demo: dict[str, str]
) -> None:
    refused = pytest.raises(ValueError, match=re.escape("'30 ans' មិនមែនជាទោសទេ"))
    with app.app_context(), using_language("km"), refused:
        parse_sentence("30 ans")
    refused = pytest.raises(ValueError, match=re.escape("write e.g. '30 years'"))
    with app.app_context(), using_language("en"), refused:
        parse_sentence("30 ans")


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_wrong_label_is_refused_in_the_importers_language(
    app: Flask, demo: dict[str, str], language: str
) -> None:
    editor = editor_in(app, language)
    page = checked_page(editor, [mp(1, status="arrêté")])
    assert f'<html lang="{language}"' in page
    assert "<td>status</td>" in page
    assert WRONG[language] in page
    assert "must be one of" not in page


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_command_line_reads_the_language_it_is_given(
    app: Flask, demo: dict[str, str], tmp_path: Path, language: str
) -> None:
    status, gender = LABELS[language]
    runner = app.test_cli_runner()
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes([mp(1, status=status, gender=gender)]))
    english = runner.invoke(args=["import-csv", str(good), "--dry-run"])
    assert english.exit_code == 1
    assert "must be one of" in english.output
    done = runner.invoke(args=["import-csv", str(good), "--language", language])
    assert done.exit_code == 0, done.output
    assert case_of("CNRP-01").status == "jailed"


def test_the_command_line_words_problems_in_its_language(
    app: Flask, demo: dict[str, str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([mp(1, status="arrêté")]))
    result = app.test_cli_runner().invoke(args=["import-csv", str(bad), "--language", "fr"])
    assert result.exit_code == 1
    assert "bad.csv: ligne 2, colonne status\u00a0: 'arrêté'\u00a0: doit être l’un de" in (
        result.output
    )


@pytest.mark.parametrize("language", ["en", *LANGUAGES])
def test_no_label_means_two_values(app: Flask, language: str) -> None:
    """A localized label equal to another value's code or label would be ambiguous: none is."""
    with app.app_context(), using_language(language):
        for enum in (CustodyStatus, LegalStage, Certainty, Confidentiality, Gender):
            words = choice_words(enum)
            assert all(len(members) == 1 for members in words.values()), words


def test_french_labels_read_in_any_case_and_spacing(app: Flask) -> None:
    with app.app_context(), using_language("fr"):
        assert parse_choice(CustodyStatus, "En Fuite") is CustodyStatus.FLED
        assert parse_choice(CustodyStatus, "assignation_a_residence") is (
            CustodyStatus.HOUSE_ARREST
        )


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_data_page_reads_in_the_language(app: Flask, language: str) -> None:
    editor = editor_in(app, language)
    page = editor.get("/data").get_data(as_text=True)
    assert f'<html lang="{language}"' in page
    assert 'dir="rtl"' in page if language == "ar" else 'dir="ltr"' in page
    # Column codes the descriptions name (``needs organization``), and a sentence's words,
    # which a cell takes in English only (``30 years``, ``life``).
    codes = [*template_header(1), "organization", "30 years", "18 months", "5 years 6 months"]
    words = ["life", "death", "fine only", "unknown"]
    check_language(page, language, "data", [*codes, *words])
    if language != "fr":
        assert f"{LABELS[language][0]} (<code>jailed</code>)" in page


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_preview_with_a_probable_match_reads_in_the_language(
    app: Flask, demo: dict[str, str], language: str
) -> None:
    editor = editor_in(app, language)
    row = mp(1, name="Kem Sokah", name_native="", aliases="", external_id="NEW-SOKAH")
    page = editor.get(upload(editor, csv_bytes([row]))).get_data(as_text=True)
    assert 'id="import-probable"' in page
    data = ["Kem Sokah", "Kem Sokha", "NEW-SOKAH", "mps.csv", "Editor", "editor@example.org"]
    check_language(page, language, "preview", data)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_popolo_preview_reads_in_the_language(
    app: Flask, demo: dict[str, str], language: str
) -> None:
    editor = editor_in(app, language)
    page = editor.get(upload_popolo(editor, CAMBODIA.read_bytes())).get_data(as_text=True)
    assert 'id="popolo-summary"' in page
    # The file's people, their identifiers and where they are in the file are its data.
    data = re.findall(r"<td[^>]*>([^<]*)</td>", page) + re.findall(
        r'<a href="/people/[^"]+">([^<]*)</a>', page
    )
    data += re.findall(r"<strong>([^<]*)</strong>", page.split('id="popolo-probable"')[-1])
    check_language(page, language, "popolo", data)
