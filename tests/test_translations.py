"""Languages: every marked string translated in every configured language, pages in the reader's
language and direction, and the language menu remembered.

The completeness test extracts the catalog from the sources as they are now (the same keywords
and mapping as ``make messages``), so a string marked without a translation fails here, listed
by language, until each catalog has it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from monitor import catalogs
from monitor.config import DEFAULT_LANGUAGES, TRANSLATIONS_DIR
from monitor.extensions import db
from monitor.models import User
from monitor.presentation import translation
from monitor.presentation.translation import SOURCE_LANGUAGE
from monitor.web.i18n import LANGUAGE_COOKIE
from tests.support.accounts import PASSWORD, client_for, login, make_user
from tests.support.web import csrf_token, text

LANGUAGES = [code for code in DEFAULT_LANGUAGES.split(",") if code != SOURCE_LANGUAGE]
# %(name)s and %s placeholders (python-format), and the HTML tags a sentence carries.
_PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[sdifr]")
_TAG = re.compile(r"</?([a-z]+)[^>]*>")


def _forms(value: str | tuple[str, ...] | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _placeholders(value: str) -> set[str]:
    return {name or "%s" for name in _PLACEHOLDER.findall(value)}


def _tags(value: str) -> list[str]:
    return sorted(_TAG.findall(value))


def _problems(message: Message, translated: Message | None) -> list[str]:
    """What is wrong with one entry of a catalog: missing, empty, fuzzy, placeholders or tags
    that differ from the source."""
    if translated is None:
        return ["missing"]
    forms = _forms(translated.string)
    if translated.fuzzy:
        return ["fuzzy"]
    if not forms or not all(forms):
        return ["empty"]
    sources = _forms(message.id)
    wanted = set().union(*(_placeholders(source) for source in sources))
    problems = []
    for form in forms:
        unknown = _placeholders(form) - wanted
        if unknown:
            problems.append(f"unknown placeholder {', '.join(sorted(unknown))}: {form!r}")
        if _tags(form) != _tags(sources[0]):
            problems.append(f"HTML tags differ from the source: {form!r}")
    # A plural form may leave the number out (Arabic's "two cases"), never every form.
    used = set().union(*(_placeholders(form) for form in forms))
    if wanted - used:
        problems.append(f"placeholder {', '.join(sorted(wanted - used))} left out")
    return problems


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """Every string marked in the current sources, extracted afresh."""
    pot = catalogs.extract(tmp_path_factory.mktemp("catalog") / "messages.pot")
    with pot.open("rb") as file:
        return read_po(file)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_marked_string_is_translated(template: Catalog, language: str) -> None:
    po = TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as file:
        catalog = read_po(file, locale=language)
    assert len(template) > 50  # the extraction found the marked strings at all
    found = [
        f"{message.id!r}: {problem}"
        for message in template
        if message.id
        for problem in _problems(message, catalog.get(message.id, message.context))
    ]
    assert found == [], (
        f"{po} needs work ({len(found)}); run `make messages`, then translate:\n" + "\n".join(found)
    )


def test_the_completeness_check_fails_on_a_missing_fuzzy_or_broken_entry() -> None:
    source = Message("Entry #%(seq)s of <code>%(name)s</code>")
    assert _problems(source, None) == ["missing"]
    assert _problems(source, Message(source.id, "", flags=["fuzzy"])) == ["fuzzy"]
    assert _problems(source, Message(source.id, "")) == ["empty"]
    broken = _problems(source, Message(source.id, "Entrée %(sequence)s de %(name)s"))
    assert any("unknown placeholder sequence" in p for p in broken)
    assert any("tags differ" in p for p in broken)
    assert any("seq left out" in p for p in broken)
    good = Message(source.id, "Entrée n° %(seq)s de <code>%(name)s</code>")
    assert _problems(source, good) == []


def test_every_catalog_is_marked_as_awaiting_review_by_a_native_speaker() -> None:
    for code in LANGUAGES:
        assert translation.needs_review(code), code
        head = (TRANSLATIONS_DIR / code / "LC_MESSAGES" / "messages.po").read_text()[:400]
        assert "# REVIEW: machine-drafted, awaiting review by a native speaker." in head
    assert not translation.needs_review(SOURCE_LANGUAGE)


# Pages a visitor or a logged-in user opens first: the slice translated in full.
ANONYMOUS_PAGES = ["/login", "/alerts/subscribe"]
USER_PAGES = ["/", "/cases", "/people", "/organizations", "/alerts", "/account", "/dossiers"]


def _html_element(page: str) -> str:
    match = re.search(r"<html[^>]*>", page)
    assert match is not None
    return match.group(0)


@pytest.mark.parametrize(("language", "direction"), [("km", "ltr"), ("ar", "rtl"), ("fr", "ltr")])
def test_every_page_carries_the_language_and_direction_of_the_reader(
    app: Flask, demo: dict[str, str], language: str, direction: str
) -> None:
    visitor = app.test_client()
    for url in ANONYMOUS_PAGES:
        page = text(visitor.get(url, headers={"Accept-Language": f"{language},en;q=0.5"}))
        assert _html_element(page) == f'<html lang="{language}" dir="{direction}">', url
    user = client_for(app, "viewer", "public")
    user.set_cookie(LANGUAGE_COOKIE, language)
    for url in USER_PAGES:
        page = text(user.get(url))
        assert _html_element(page) == f'<html lang="{language}" dir="{direction}">', url


def test_the_dashboard_and_login_page_read_in_khmer_and_arabic(
    app: Flask, demo: dict[str, str]
) -> None:
    visitor = app.test_client()
    login_page = text(visitor.get("/login", headers={"Accept-Language": "km-KH"}))
    assert "<h1>ចូល</h1>" in login_page
    assert "ពាក្យសម្ងាត់" in login_page  # the password field's label
    assert "(បកប្រែដោយម៉ាស៊ីន កំពុងរង់ចាំការពិនិត្យ)" in login_page  # awaiting review
    viewer = client_for(app, "viewer", "public")
    viewer.set_cookie(LANGUAGE_COOKIE, "ar")
    dashboard = text(viewer.get("/"))
    assert "<h1>لوحة المتابعة</h1>" in dashboard
    assert '<span class="badge badge-jailed">مسجون</span>' in dashboard
    # Babel's Arabic month name; the register keeps Latin digits, as CLDR's ar locale does.
    assert "سبتمبر 2017" in dashboard
    assert "<bdi>Kem Sokha</bdi>" in dashboard  # a Latin name inside an Arabic sentence
    viewer.set_cookie(LANGUAGE_COOKIE, "fr")
    assert "<h1>Tableau de bord</h1>" in text(viewer.get("/"))


def test_an_unknown_browser_language_falls_back_to_the_first_configured(app: Flask) -> None:
    page = text(app.test_client().get("/login", headers={"Accept-Language": "de-DE,de;q=0.9"}))
    assert _html_element(page) == '<html lang="en" dir="ltr">'
    assert "<h1>Log in</h1>" in page


def test_the_menu_remembers_a_logged_in_users_language_on_their_account(app: Flask) -> None:
    user = make_user("viewer", "public", email="polyglot@example.org")
    client = app.test_client()
    login(client, "polyglot@example.org", PASSWORD)
    answer = client.post(
        "/language",
        data={"language": "km", "next": "/cases", "csrf_token": csrf_token(client, "/")},
    )
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/cases"
    db.session.expire_all()
    assert db.session.get(User, user.id).language == "km"  # type: ignore[union-attr]
    # Another browser, with no cookie and another Accept-Language: the account decides.
    elsewhere = app.test_client()
    login(elsewhere, "polyglot@example.org", PASSWORD)
    page = text(elsewhere.get("/", headers={"Accept-Language": "fr"}))
    assert _html_element(page) == '<html lang="km" dir="ltr">'
    assert "ផ្ទាំងសង្ខេប" in page


def test_the_menu_remembers_an_anonymous_visitors_language_in_a_cookie(app: Flask) -> None:
    visitor = app.test_client()
    answer = visitor.post(
        "/language",
        data={"language": "ar", "next": "/login", "csrf_token": csrf_token(visitor, "/login")},
    )
    assert answer.status_code == 302
    cookie = visitor.get_cookie(LANGUAGE_COOKIE)
    assert cookie is not None
    assert cookie.value == "ar"
    assert cookie.http_only
    page = text(visitor.get("/login", headers={"Accept-Language": "en"}))
    assert _html_element(page) == '<html lang="ar" dir="rtl">'
    assert "تسجيل الدخول" in page


def test_the_menu_refuses_a_language_not_configured_and_a_post_without_csrf(app: Flask) -> None:
    visitor = app.test_client()
    token = csrf_token(visitor, "/login")
    data = {"language": "xx", "next": "/login", "csrf_token": token}
    refused = visitor.post("/language", data=data, follow_redirects=True)
    assert "Choose one of the languages in the menu." in text(refused)
    assert visitor.get_cookie(LANGUAGE_COOKIE) is None
    assert visitor.post("/language", data={"language": "fr"}).status_code == 400


def test_the_menu_names_each_language_in_itself(client: FlaskClient) -> None:
    page = text(client.get("/login"))
    menu = page[page.index('class="language-menu"') : page.index("</form>")]
    for code, name in [("en", "English"), ("fr", "Français"), ("km", "ខ្មែរ"), ("ar", "العربية")]:
        assert f'value="{code}" lang="{code}"' in menu
        assert f">{name}</button>" in menu


def test_babel_cfg_and_the_makefile_build_the_catalogs(tmp_path: Path) -> None:
    makefile = (Path(catalogs.PROJECT_ROOT) / "Makefile").read_text()
    assert "-m monitor.catalogs compile" in makefile  # on install
    assert "test: $(STAMP) catalogs" in makefile
    assert "run: $(STAMP) catalogs" in makefile
    ignored = (Path(catalogs.PROJECT_ROOT) / ".gitignore").read_text().split()
    assert "*.mo" in ignored
