"""The people and organization pages read in Khmer, French and Arabic (issue 18): the people
list, Kem Sokha's page (a case, two memberships, an identifier), the person form new, edited
and refused, the organizations list, the CNRP's page and the organization form, each in the
reader's language and direction with no English of the page's own left, only the data typed
into the register. And the gender on the person form (issue 17): a choice from the CSV
import's vocabulary, with any other recorded text kept."""

from __future__ import annotations

import re

import pytest
from babel import Locale
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from monitor.domain import PartialDate
from monitor.extensions import db
from monitor.models import Organization, Person
from monitor.services.csv_format import Gender
from monitor.services.people import (
    PersonInput,
    add_membership,
    create_person,
    update_person,
)
from monitor.web.forms.people import GENDER_LABELS
from monitor.web.i18n import LANGUAGE_COOKIE
from tests.support.accounts import client_for
from tests.support.untranslated import untranslated
from tests.support.web import submit, text

LANGUAGES = ["km", "fr", "ar"]
DIRECTION = {"km": "ltr", "fr": "ltr", "ar": "rtl"}

# Typed into the register (the demo and this test's additions): shown as typed in every language.
DATA = [
    "Kem Sokha",
    "Mu Sochua",
    "Mao Monyvann",
    "Cambodia National Rescue Party",
    "acting party leader",
    "deputy leader",
    "Member of Parliament",
    "Politician",
    "Kem Sokha: jailed on treason charges",
    "Mu Sochua: fled threatened arrest",
    "Mao Monyvann: CNRP MP",
    "Takeo",
    "wikidata:Q3194965",
    "wikidata",
    "Q3194965",
    "20x",
    "many",
]
# Date formats are typed as these letters whatever the language (the hints and errors say so).
FORMAT_TOKENS = ["YYYY"]
# French words English writes the same way (the menu, the account's title, a column for screen
# readers, a dossier's audience, "alphabet latin").
FRENCH_AS_IN_ENGLISH = ["Menu", "dossier", "dossiers", "second", "sessions", "Actions", "public"]
FRENCH_AS_IN_ENGLISH += ["latin"]

# Words only a translated page says.
WORDS = {
    "km": {
        "people": ["<h1>មនុស្ស</h1>", 'data-label="អក្សរដើម"', "ស្វែងរក", "បន្ថែមបុគ្គល"],
        "person": [
            "សមាជិកភាព",
            'data-label="តួនាទី"',
            '<dd id="gender">ប្រុស</dd>',
            ">សមាជិក</td>",
            "បន្ថែមសមាជិកភាព",
            "មិថុនា 1953",
        ],
        "new": ["<h1>បន្ថែមបុគ្គល</h1>", "— មិនដឹង —", ">ស្រី</option>", "កើត (YYYY"],
        "edit": ["<h1>កែសម្រួលបុគ្គល</h1>", '<option selected value="male">ប្រុស</option>'],
        "refused": [
            "ត្រូវតែបំពេញចន្លោះនេះ។",
            "សូមប្រើ YYYY, YYYY-MM ឬ YYYY-MM-DD",
            "សូមសរសេរ គ្រោងការណ៍:លេខសម្គាល់",
        ],
        "duplicate": ["បុគ្គលនេះប្រហែលជាមានក្នុងបញ្ជីរួចហើយ", "ឈ្មោះដូចគ្នា"],
        "organizations": ["<h1>អង្គការ</h1>", "គណបក្សនយោបាយ", 'data-label="សេចក្តីសង្ខេប"'],
        "organization": [
            "55 អាសនៈ · ស្គាល់សមាជិក 3 នាក់ · 3 ករណី៖ 1 ជាប់ពន្ធនាគារ",
            'data-label="ស្ថានភាពបច្ចុប្បន្ន"',
            "ករណីរបស់សមាជិក (CSV)",
        ],
        "organization form": ["<h1>បន្ថែមអង្គការ</h1>", "អាសនៈ ឬសមាជិក", "សូមបញ្ចូលចំនួនគត់"],
    },
    "fr": {
        "people": ["<h1>Personnes</h1>", 'data-label="Écriture d’origine"', "Rechercher"],
        "person": [
            "Appartenances",
            'data-label="Rôle"',
            '<dd id="gender">homme</dd>',
            ">membre</td>",
            "Ajouter une appartenance",
            "juin 1953",
        ],
        "new": ["<h1>Ajouter une personne</h1>", "— non renseigné —", ">femme</option>"],
        "edit": ["<h1>Modifier la personne</h1>", '<option selected value="male">homme</option>'],
        "refused": [
            "Ce champ est obligatoire.",
            "utilisez YYYY, YYYY-MM ou YYYY-MM-DD",
            "écrivez schéma:identifiant",
        ],
        "duplicate": ["Cette personne figure peut-être déjà au registre", "même nom"],
        "organizations": ["<h1>Organisations</h1>", "parti politique", 'data-label="Résumé"'],
        "organization": [
            "55 sièges · 3 membres connus · 3 affaires\u00a0: 1 détenu",
            'data-label="Situation actuelle"',
            "Affaires des membres (CSV)",
        ],
        "organization form": [
            "<h1>Ajouter une organisation</h1>",
            "Sièges ou membres",
            "saisissez un nombre entier",
        ],
    },
    "ar": {
        "people": ["<h1>الأشخاص</h1>", 'data-label="الكتابة الأصلية"', "بحث", "إضافة شخص"],
        "person": [
            "العضويات",
            'data-label="الدور"',
            '<dd id="gender">ذكر</dd>',
            ">عضو</td>",
            "إضافة عضوية",
            "العضوية في <bdi>CNRP</bdi>",
        ],
        "new": ["<h1>إضافة شخص</h1>", "— غير معروف —", ">أنثى</option>"],
        "edit": ["<h1>تعديل الشخص</h1>", '<option selected value="male">ذكر</option>'],
        "refused": [
            "هذا الحقل مطلوب.",
            "استخدم YYYY أو YYYY-MM أو YYYY-MM-DD",
            "اكتب المخطط:المعرّف",
        ],
        "duplicate": ["قد يكون هذا الشخص مسجّلًا بالفعل", "الاسم نفسه"],
        "organizations": ["<h1>المنظمات</h1>", "حزب سياسي", 'data-label="الملخص"'],
        "organization": [
            "55 مقعدًا · 3 أعضاء معروفين · 3 قضايا: 1 مسجون",
            'data-label="الوضع الحالي"',
            "قضايا الأعضاء (CSV)",
        ],
        "organization form": ["<h1>إضافة منظمة</h1>", "المقاعد أو الأعضاء", "أدخل عددًا صحيحًا"],
    },
}


def cnrp() -> Organization:
    return db.session.scalars(select(Organization).where(Organization.short_name == "CNRP")).one()


def kem_sokha() -> Person:
    return db.session.scalars(select(Person).where(Person.name == "Kem Sokha")).one()


@pytest.fixture
def register(demo: dict[str, str]) -> dict[str, str]:
    """The demo, with Kem Sokha's gender, birth, Wikidata item and a second membership of the
    CNRP (blank role: "member"), from 2013 to 2017, for Takeo."""
    kem = kem_sokha()
    update_person(
        "test",
        kem,
        PersonInput(
            name="Kem Sokha",
            name_native="កឹម សុខា",
            nationality="KH",
            occupation="Politician",
            gender="male",
            birth_date=PartialDate.parse("1953-06"),
            identifiers=[("wikidata", "Q3194965")],
        ),
    )
    add_membership(
        "test",
        kem,
        cnrp(),
        "",
        start=PartialDate.parse("2013"),
        end=PartialDate.parse("2017-11-16"),
        area="Takeo",
    )
    db.session.commit()
    return {"person": kem.public_id, "organization": cnrp().public_id}


def pages(client: FlaskClient, ids: dict[str, str]) -> dict[str, TestResponse]:
    """Every page of this test, as ``client`` sees them."""
    person, org = f"/people/{ids['person']}", f"/organizations/{ids['organization']}"
    return {
        "people": client.get("/people"),
        "person": client.get(person),
        "new": client.get("/people/new"),
        "edit": client.get(f"{person}/edit"),
        "refused": submit(
            client, "/people/new", {"name": "", "birth_date": "20x", "identifiers": "Q3194965"}
        ),
        "duplicate": submit(client, "/people/new", {"name": "Kem Sokha"}),
        "organizations": client.get("/organizations"),
        "organization": client.get(org),
        "organization form": submit(
            client, "/organizations/new", {"name": "", "kind": "ngo", "seats": "many"}
        ),
        "organization edit": client.get(f"{org}/edit"),
    }


def reader(app: Flask, language: str) -> FlaskClient:
    client = client_for(app, "editor")
    client.set_cookie(LANGUAGE_COOKIE, language)
    return client


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_people_and_organization_pages_read_in_the_readers_language(
    app: Flask, register: dict[str, str], language: str
) -> None:
    browser = reader(app, language)
    seen = pages(browser, register)
    browser.set_cookie(LANGUAGE_COOKIE, "en")
    in_english = {name: text(page) for name, page in pages(browser, register).items()}
    # Country names are data too: French writes many as English does (Canada, Cambodge aside).
    countries = list(Locale.parse(language).territories.values()) if language == "fr" else []
    for name, response in seen.items():
        page = text(response)
        assert response.status_code == (
            422 if name in ("refused", "duplicate", "organization form") else 200
        )
        assert f'<html lang="{language}" dir="{DIRECTION[language]}">' in page, name
        for word in WORDS[language].get(name, []):
            assert word in page, (name, word)
        left = untranslated(
            page,
            data=[*DATA, *countries, register["person"]],
            allowed=FORMAT_TOKENS + (FRENCH_AS_IN_ENGLISH if language == "fr" else []),
            english=in_english[name] if language == "fr" else None,
        )
        assert left == [], f"English left on the {language} {name} page: {sorted(set(left))}"


def test_the_check_finds_the_english_it_looks_for(app: Flask, register: dict[str, str]) -> None:
    """The same pages in English fail the check: it can see the words it looks for."""
    browser = reader(app, "en")
    for name, response in pages(browser, register).items():
        page = text(response)
        assert "Organizations" in untranslated(page, data=DATA, allowed=FORMAT_TOKENS), name
        french_check = untranslated(page, data=DATA, english=page)
        assert "Organizations" in french_check, name


def test_the_people_search_says_how_many_it_found_in_each_language(
    app: Flask, register: dict[str, str]
) -> None:
    counts = {
        "fr": ("<strong>1</strong> personne", "<strong>3</strong> personnes"),
        "km": ("មនុស្ស <strong>1</strong> នាក់", "មនុស្ស <strong>3</strong> នាក់"),
        "ar": ("<strong>1</strong> شخص", "<strong>3</strong> أشخاص"),
    }
    browser = client_for(app, "viewer")
    for language, (one, three) in counts.items():
        browser.set_cookie(LANGUAGE_COOKIE, language)
        assert one in text(browser.get("/people?q=Sokha")), language
        assert three in text(browser.get("/people")), language


def test_adding_a_membership_and_a_person_says_so_in_the_readers_language(
    app: Flask, register: dict[str, str]
) -> None:
    browser = reader(app, "ar")
    person = f"/people/{register['person']}"
    added = submit(
        browser,
        person,
        {"organization": register["organization"], "role": "MP"},
        f"{person}/memberships",
        follow=True,
    )
    assert "أُضيفت العضوية في <bdi>CNRP</bdi>." in text(added)
    refused = submit(
        browser,
        person,
        {"organization": register["organization"], "role": "MP", "start": "2018", "end": "2017"},
        f"{person}/memberships",
    )
    assert refused.status_code == 422
    assert "يجب ألا يسبق البداية" in text(refused)
    created = submit(browser, "/people/new", {"name": "Ou Chanrath"}, follow=True)
    assert "أُضيف <bdi>Ou Chanrath</bdi>." in text(created)


# Issue 17: the gender select.


def test_every_gender_of_the_import_vocabulary_has_a_label() -> None:
    assert set(GENDER_LABELS) == {g.value for g in Gender}


def test_the_gender_is_chosen_from_the_import_vocabulary_in_the_readers_language(
    app: Flask, demo: dict[str, str]
) -> None:
    browser = reader(app, "fr")
    form = text(browser.get("/people/new"))
    options = re.findall(r'<option[^>]*value="([^"]*)"', form.split('name="gender"')[1])[:4]
    assert options == ["", "female", "male", "other"]
    assert ">femme</option>" in form

    saved = submit(browser, "/people/new", {"name": "Tep Vanny", "gender": "female"}, follow=True)
    assert '<dd id="gender">femme</dd>' in text(saved)
    person = db.session.scalars(select(Person).where(Person.name == "Tep Vanny")).one()
    assert person.gender == "female"


def test_a_gender_recorded_outside_the_vocabulary_is_kept_when_the_person_is_edited(
    app: Flask, demo: dict[str, str]
) -> None:
    person = create_person("test", PersonInput(name="Tep Vanny", gender="non-binary"))
    db.session.commit()
    browser = reader(app, "en")
    edit = f"/people/{person.public_id}/edit"
    form = text(browser.get(edit))
    assert '<option selected value="non-binary">non-binary (kept as recorded)</option>' in form
    assert '<dd id="gender">non-binary</dd>' in text(browser.get(f"/people/{person.public_id}"))

    # Saved with the occupation changed and the gender as the form offers it: kept.
    submit(browser, edit, {"name": "Tep Vanny", "gender": "non-binary", "occupation": "Activist"})
    db.session.expire_all()
    assert (person.gender, person.occupation) == ("non-binary", "Activist")
    # Chosen from the vocabulary: replaced; the old text is then no longer offered.
    submit(browser, edit, {"name": "Tep Vanny", "gender": "female"})
    db.session.expire_all()
    assert person.gender == "female"
    assert "kept as recorded" not in text(browser.get(edit))


def test_a_gender_outside_the_options_is_refused_in_the_readers_language(
    app: Flask, demo: dict[str, str]
) -> None:
    browser = reader(app, "km")
    refused = submit(browser, "/people/new", {"name": "Tep Vanny", "gender": "robot"})
    assert refused.status_code == 422
    assert "សូមជ្រើសរើសភេទមួយក្នុងបញ្ជី" in text(refused)
    assert db.session.scalars(select(Person).where(Person.name == "Tep Vanny")).first() is None
