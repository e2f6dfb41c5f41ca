"""The case pages and forms read in Khmer, French and Arabic (issue 18): the case list, Kem
Sokha's case page, recording a status change, and the new-case form with its errors, each in the
reader's language and direction with none of these pages' English sentences left."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from monitor.web.i18n import LANGUAGE_COOKIE
from tests.support.accounts import client_for
from tests.support.web import submit, text

# What each page says in each language: words only a translated page contains.
WORDS = {
    "km": {
        "list": ["<h1>ករណី</h1>", "បង្ហាញករណី", "ទោសអតិបរមាដែលអាចទទួល", "តម្រៀបតាម"],
        "detail": ["កាលប្បវត្តិ", "ការចោទប្រកាន់", "បទល្មើស", "30 ឆ្នាំ", "ត្រូវបានចោទប្រកាន់"],
        "status": ["<h1>កត់ត្រាការផ្លាស់ប្តូរស្ថានភាព</h1>", "ស្ថានភាពឃុំខ្លួនថ្មី", "ជ្រើសរើសស្ថានភាព…"],
        "recorded": "បានកត់ត្រា៖ Kem Sokha ឥឡូវ ឃុំខ្លួននៅផ្ទះ។",
        "stale": "ចំណងជើងប្រហែលជាហួសសម័យ។",
        "errors": ["មិនមានអ្វីត្រូវបានរក្សាទុកទេ។", "សូមជ្រើសរើសប្រទេស", "សូមជ្រើសរើសស្ថានភាពឃុំខ្លួន"],
    },
    "fr": {
        "list": [
            "<h1>Affaires</h1>",
            "Afficher les affaires",
            "Peine maximale encourue",
            "Trier par",
        ],
        "detail": ["Chronologie", "Inculpations", "Infraction", "30 ans", "inculpé"],
        "status": ["<h1>Enregistrer un changement de situation</h1>", "Nouvelle situation"],
        "recorded": "Enregistré\u00a0: Kem Sokha, désormais assignation à résidence.",
        "stale": "Le titre n’est peut-être plus à jour.",
        "errors": ["Rien n’a été enregistré.", "choisissez le pays", "choisissez la situation"],
    },
    "ar": {
        "list": ["<h1>القضايا</h1>", "عرض القضايا", "أقصى عقوبة محتملة", "الترتيب حسب"],
        "detail": ["التسلسل الزمني", "التهم", "الجريمة", "30 سنة", "موجَّهة"],
        "status": ["<h1>تسجيل تغيير في الوضع</h1>", "وضع الاحتجاز الجديد", "اختر وضعًا…"],
        "recorded": "سُجّل: Kem Sokha، الآن إقامة جبرية.",
        "stale": "قد يكون العنوان قديمًا.",
        "errors": ["لم يُحفظ شيء.", "اختر البلد", "اختر وضع الاحتجاز"],
    },
}
DIRECTION = {"km": "ltr", "fr": "ltr", "ar": "rtl"}

# The English these pages say (their own words, not the data typed into the register).
ENGLISH = {
    "list": [
        "Name (any script or alias)",
        "Custody status",
        "Maximum exposure",
        "Confidentiality",
        "Show cases",
        "Sort by",
        "Status since (oldest first)",
        "Recently updated",
        "Open a case",
        "Export (CSV)",
        "any organization",
        "e.g. treason",
        "30 years",
        ">jailed<",
    ],
    "detail": [
        "Record status change",
        "Add charge",
        "Edit case",
        "Case title:",
        "Maximum exposure",
        "Original script",
        "Occupation",
        "Nationality",
        "Memberships",
        "Timeline",
        "Legal basis",
        "Maximum sentence",
        "Sentence imposed",
        "In absentia",
        "maximum 30 years",
        "30 years",
        ">charged<",
        ">confirmed<",
        "Source:",
        "Recorded ",
        "History",
        "The title may be out of date.",
        "the current custody status is",
        "comes from the recorded events",
    ],
    "status": [
        "Record a status change",
        "is currently",
        "An event older than that is added to the timeline",
        "What happened",
        "New custody status",
        "Occurred on",
        "YYYY-MM or",
        "The date is approximate",
        "Location",
        "Certainty",
        "Existing source",
        "or a new source",
        "Publisher",
        "Cancel",
        "Choose a status",
        ">confirmed<",
        ">unverified<",
    ],
    "errors": [
        "Nothing was saved.",
        "Please correct the problems marked below.",
        "choose an existing person or enter a new person",
        "choose the country",
        "choose the custody status",
        "This field is required.",
        "Existing person",
        "Name (Latin script)",
        "Name in original script",
        "Persecuting country",
        "Choose a country",
        "Tags (comma-separated)",
        "Only levels up to your clearance can be chosen.",
        "Current custody status",
        "Role in the organization",
        "Open the case",
        "a new person (fill in below)",
        "Cambodia (KH)",
    ],
}
LANGUAGES = ["km", "fr", "ar"]


def visible(page: str) -> str:
    """The page's text as read, markup and line breaks aside (``<title>`` and all)."""
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def assert_reads_in(page: str, language: str, words: list[str], english: list[str]) -> None:
    """``page`` is in ``language``, in its direction, says ``words`` and none of ``english``."""
    assert f'<html lang="{language}" dir="{DIRECTION[language]}">' in page
    for word in words:
        assert word in page, word
    text_read = visible(page)
    left = [sentence for sentence in english if sentence in page or sentence in text_read]
    assert left == [], f"English left on a {language} page: {left}"


def reader(app: Flask, role: str, language: str) -> FlaskClient:
    client = client_for(app, role)
    client.set_cookie(LANGUAGE_COOKIE, language)
    return client


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_case_list_reads_in_the_readers_language(
    app: Flask, demo: dict[str, str], language: str
) -> None:
    page = text(reader(app, "editor", language).get("/cases"))
    assert "Kem Sokha" in page  # the data stays as typed
    assert_reads_in(page, language, WORDS[language]["list"], ENGLISH["list"])


@pytest.mark.parametrize("language", LANGUAGES)
def test_recording_kem_sokhas_status_change_reads_in_the_readers_language(
    app: Flask, demo: dict[str, str], language: str
) -> None:
    editor = reader(app, "editor", language)
    case_url = f"/cases/{demo['Kem Sokha']}"
    form = text(editor.get(f"{case_url}/status"))
    assert_reads_in(form, language, WORDS[language]["status"], ENGLISH["status"])

    recorded = submit(
        editor,
        f"{case_url}/status",
        {"status": "house_arrest", "occurred_on": "2018-09-10", "certainty": "confirmed"},
        follow=True,
    )
    page = text(recorded)
    assert WORDS[language]["recorded"] in page  # the flash message
    # The title still says "jailed": the page warns, in the reader's language.
    assert WORDS[language]["stale"] in page
    assert_reads_in(page, language, WORDS[language]["detail"], ENGLISH["detail"])


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_new_case_form_refuses_in_the_readers_language(
    app: Flask, demo: dict[str, str], language: str
) -> None:
    editor = reader(app, "editor", language)
    refused = submit(editor, "/cases/new", {"title": "", "status_since": ""})
    assert refused.status_code == 422
    page = text(refused)
    assert_reads_in(page, language, WORDS[language]["errors"], ENGLISH["errors"])


def test_the_english_pages_keep_their_words(app: Flask, demo: dict[str, str]) -> None:
    """The check above can fail: the same pages in English say every sentence it looks for."""
    editor = reader(app, "editor", "en")
    case_url = f"/cases/{demo['Kem Sokha']}"
    new_status = {"status": "house_arrest", "occurred_on": "2018-09-10", "certainty": "confirmed"}
    pages = {
        "list": text(editor.get("/cases")),
        "status": text(editor.get(f"{case_url}/status")),
        "errors": text(submit(editor, "/cases/new", {"title": "", "status_since": ""})),
        "detail": text(submit(editor, f"{case_url}/status", new_status, follow=True)),
    }
    for name, page in pages.items():
        said = page + visible(page)
        assert [s for s in ENGLISH[name] if s not in said] == [], name
