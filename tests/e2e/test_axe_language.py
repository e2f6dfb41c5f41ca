"""Names in their original script carry their language, so a screen reader reads Khmer in a Khmer
voice and Arabic runs right to left (WCAG 3.1.2) — axe-core takes any valid tag, even ``und``."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from monitor.extensions import db
from monitor.presentation.languages import TextLanguage, lang_attrs, language_of
from monitor.services.people import PersonInput, create_person
from tests.support.web import open_case, text


@pytest.mark.parametrize(
    ("name", "country", "expected"),
    [
        ("កឹម សុខា", None, TextLanguage("km", rtl=False)),
        ("မင်းအောင်လှိုင်", "MM", TextLanguage("my", rtl=False)),
        ("محمد نوري", None, TextLanguage("ar", rtl=True)),
        ("نرگس محمدی", "IR", TextLanguage("fa", rtl=True)),
        ("עמית", None, TextLanguage("he", rtl=True)),
        ("Алесь Бяляцкі", "BY", TextLanguage("be", rtl=False)),
        ("Алесь Бяляцкі", None, TextLanguage("und-Cyrl", rtl=False)),  # which language: unknown
        ("刘晓波", "CN", TextLanguage("zh", rtl=False)),
        ("安倍晋三 あべ", None, TextLanguage("ja", rtl=False)),  # kana say Japanese
        ("김대중", None, TextLanguage("ko", rtl=False)),
        ("ฉัตรชัย", "TH", TextLanguage("th", rtl=False)),
        ("Nguyễn Văn Đài", "VN", TextLanguage("vi", rtl=False)),
    ],
)
def test_a_names_language_comes_from_its_letters_and_the_country(
    name: str, country: str | None, expected: TextLanguage
) -> None:
    assert language_of(name, country) == expected


@pytest.mark.parametrize("name", ["Kem Sokha", "", None, "12 (?)"])
def test_latin_script_and_no_letters_keep_the_pages_language(name: str | None) -> None:
    assert language_of(name) is None
    assert lang_attrs(name) == ""


def test_lang_attrs_are_escaped_markup() -> None:
    assert lang_attrs("محمد") == ' lang="ar" dir="rtl"'
    assert lang_attrs("កឹម") == ' lang="km"'


def test_pages_mark_the_original_script_with_its_language(editor_client: FlaskClient) -> None:
    case_id = open_case("Kem Sokha", native="កឹម សុខា")
    person = create_person(
        "test", PersonInput(name="Narges Mohammadi", name_native="نرگس محمدی", nationality="IR")
    )
    db.session.commit()

    listing = text(editor_client.get("/cases"))
    assert '<span class="native-name" lang="km">កឹម សុខា</span>' in listing
    case_page = text(editor_client.get(f"/cases/{case_id}"))
    assert '<span class="native-name" lang="km">កឹម សុខា</span>' in case_page
    assert '<dd lang="km">កឹម សុខា</dd>' in case_page
    people = text(editor_client.get("/people"))
    assert '<td data-label="Original script" lang="fa" dir="rtl">نرگس محمدی</td>' in people
    page = text(editor_client.get(f"/people/{person.public_id}"))
    assert '<span class="native-name" lang="fa" dir="rtl">نرگس محمدی</span>' in page
    form = text(editor_client.get(f"/people/{person.public_id}/edit"))
    field = re.search(r'<input[^>]*id="name_native"[^>]*>', form)
    assert field, form
    assert 'dir="auto"' in field.group(0)
    assert 'lang="fa"' in field.group(0)
    assert 'lang="und"' not in listing + case_page + people + page + form
