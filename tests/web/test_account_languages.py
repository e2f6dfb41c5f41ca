"""The account, security, admin, alerts and second-step pages in Khmer, French and Arabic: each
page carries the reader's language and direction, reads in it, and leaves none of its English
sentences behind; following CNRP and subscribing to its alerts work in each language."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from monitor.web.i18n import LANGUAGE_COOKIE
from tests.support.accounts import PASSWORD, client_for, login, make_user
from tests.support.alerts import organization
from tests.support.web import csrf_token, submit, text

DIRECTIONS = {"km": "ltr", "fr": "ltr", "ar": "rtl"}

# Each page's heading (or its most telling words) in each language.
HEADINGS = {
    "/account": {"km": "<h1>គណនីរបស់អ្នក</h1>", "fr": "<h1>Votre compte</h1>", "ar": "<h1>حسابك</h1>"},
    "/account/sessions": {
        "km": "<h1>វគ្គរបស់អ្នក</h1>",
        "fr": "<h1>Vos sessions</h1>",
        "ar": "<h1>جلساتك</h1>",
    },
    "/account/tokens": {
        "km": "<h1>សញ្ញាសម្គាល់ API របស់អ្នក</h1>",
        "fr": "<h1>Vos jetons d’API</h1>",
        "ar": "<h1>رموز API الخاصة بك</h1>",
    },
    "/account/security": {
        "km": "<h1>សុវត្ថិភាពគណនី</h1>",
        "fr": "<h1>Sécurité du compte</h1>",
        "ar": "<h1>أمان الحساب</h1>",
    },
    "/account/confirm?next=/account/security": {
        "km": "<h1>បញ្ជាក់ថាជាអ្នក</h1>",
        "fr": "<h1>Confirmez que c’est vous</h1>",
        "ar": "<h1>أكّد أنه أنت</h1>",
    },
    "/alerts": {"km": "<h1>ការជូនដំណឹង</h1>", "fr": "<h1>Alertes</h1>", "ar": "<h1>التنبيهات</h1>"},
    "/admin/users": {
        "km": "<h1>អ្នកប្រើ</h1>",
        "fr": "<h1>Utilisateurs</h1>",
        "ar": "<h1>المستخدمون</h1>",
    },
    "/admin/users/new": {
        "km": "<h1>បន្ថែមអ្នកប្រើ</h1>",
        "fr": "<h1>Ajouter un utilisateur</h1>",
        "ar": "<h1>إضافة مستخدم</h1>",
    },
}
SUBSCRIBE = {
    "km": "<h1>ការជូនដំណឹងតាមអ៊ីមែល អំពីការផ្លាស់ប្តូរស្ថានភាពឃុំខ្លួន</h1>",
    "fr": "<h1>Alertes par e-mail sur les changements de situation de détention</h1>",
    "ar": "<h1>تنبيهات بالبريد الإلكتروني عند تغيّر وضع الاحتجاز</h1>",
}
SECOND_STEP = {
    "km": "<h1>មួយជំហានទៀត</h1>",
    "fr": "<h1>Encore une étape</h1>",
    "ar": "<h1>خطوة أخرى</h1>",
}

# English sentences and labels of these pages; none may be left in another language's page.
ENGLISH = [
    "Your account",
    "Your details",
    "Save the name",
    "Changing it ends your other sessions.",
    "Off: your password alone opens your account.",
    "active tokens",
    "Logged in on",
    "Every browser logged in to your account",
    "Log out all other sessions",
    "End session",
    "this browser",
    "Create a token",
    "What the token is for",
    "You have no tokens.",
    "Account security",
    "After your password, the register asks for a second factor",
    "Authenticator app",
    "Set up an authenticator app",
    "Passkeys and security keys",
    "No passkey yet.",
    "Recovery codes",
    "ten one-time recovery codes",
    "Confirm it's you",
    "Changing your password, second factors",
    "Your password",
    "Cancel",
    "What you follow",
    "You follow nothing yet.",
    "Follow every case you are cleared to see",
    "Follow everything",
    "daily digest",
    "each change",
    "Add a user",
    "Last login",
    "Clearance",
    "Create the account",
    "At least 12 characters",
    "leave empty to generate one",
    "Email alerts on custody status changes",
    "Get an email when someone the register follows",
    "Your email address",
    "Your name (optional)",
    "Tell me about",
    "every public case",
    "cases in one country",
    "at once, one email per change",
    "once a day, one digest email",
    "Only when you chose",
    "What to tell you about",
    "Subscribe",
    "One more step",
    "Code from your authenticator app",
    "Lost your phone or key",
    "Log in with a recovery code",
    "The password step is good for five minutes.",
    "Start again",
    "Email me",
    "immediate emails",
    "Follow",
    "You follow this",
    "Switch to",
    "Unfollow",
    "Check your email",
    "a confirmation email is on its way",
]


def _html_element(page: str) -> str:
    match = re.search(r"<html[^>]*>", page)
    assert match is not None
    return match.group(0)


def _visible(page: str) -> str:
    """What a reader sees: the page's text without tags, scripts or styles."""
    page = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.DOTALL)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _english_left(page: str) -> list[str]:
    seen = _visible(page)
    return [sentence for sentence in ENGLISH if sentence in seen]


def _reads_in(page: str, language: str, words: str) -> None:
    assert _html_element(page) == f'<html lang="{language}" dir="{DIRECTIONS[language]}">'
    assert words in page
    assert _english_left(page) == []


def _in(browser: FlaskClient, language: str) -> FlaskClient:
    browser.set_cookie(LANGUAGE_COOKIE, language)
    return browser


LANGUAGES = pytest.mark.parametrize("language", ["km", "fr", "ar"])


@LANGUAGES
def test_account_admin_and_alerts_pages_read_in_the_users_language(
    app: Flask, demo: dict[str, str], language: str
) -> None:
    admin = _in(client_for(app, "admin", "confidential"), language)
    for url, headings in HEADINGS.items():
        _reads_in(text(admin.get(url)), language, headings[language])
    # The password page (asking "Confirm it's you" first, so after a fresh login it opens).
    password = text(admin.get("/account/password"))
    assert _html_element(password) == f'<html lang="{language}" dir="{DIRECTIONS[language]}">'
    assert "Change your password" not in _visible(password)
    assert "Common or guessable passwords are refused" not in _visible(password)


def test_the_account_page_says_roles_clearances_and_counts_in_khmer_and_arabic(
    app: Flask, demo: dict[str, str]
) -> None:
    editor = _in(client_for(app, "editor", "restricted"), "km")
    page = text(editor.get("/account"))
    assert "<dd>អ្នកកែសម្រួល</dd>" in page  # editor
    assert ">មានកម្រិត</span>" in page  # restricted
    assert '<p id="token-count">សញ្ញាសម្គាល់សកម្ម 0។</p>' in page
    _in(editor, "ar")
    page = text(editor.get("/account"))
    assert "<dd>محرر</dd>" in page
    assert '<p id="session-count">مسجَّل الدخول على متصفح واحد (1).</p>' in page
    admin = _in(client_for(app, "admin", "confidential"), "fr")
    users = text(admin.get("/admin/users"))
    assert '<td data-label="Rôle">éditeur</td>' in users
    assert '<td data-label="Habilitation">restreint</td>' in users


@LANGUAGES
def test_following_cnrp_from_its_page_in_each_language(
    app: Flask, demo: dict[str, str], language: str
) -> None:
    viewer = _in(client_for(app, "viewer", "public"), language)
    cnrp = organization("CNRP")
    url = f"/organizations/{cnrp.public_id}"
    page = text(viewer.get(url))
    control = page[page.index('<div class="follow-control"') :]
    control = control[: control.index("</div>")]
    words = {
        "km": ("ផ្ញើអ៊ីមែលមកខ្ញុំ", "អ៊ីមែលភ្លាមៗ", "សេចក្តីសង្ខេបប្រចាំថ្ងៃ", ">តាមដាន</button>"),
        "fr": ("M’écrire", "e-mails immédiats", "résumé quotidien", ">Suivre</button>"),
        "ar": ("راسلني", "رسائل فورية", "ملخص يومي", ">متابعة</button>"),
    }[language]
    for word in words:
        assert word in control, word
    assert _english_left(control) == []

    followed = viewer.post(
        "/alerts/follow",
        data={
            "csrf_token": csrf_token(viewer, url),
            "scope": "organization",
            "target": cnrp.public_id,
            "mode": "daily",
            "next": url,
        },
        follow_redirects=True,
    )
    page = text(followed)
    said = {
        "km": f"អ្នកតាមដាន សមាជិកនៃ {cnrp.label} (សេចក្តីសង្ខេបប្រចាំថ្ងៃ)៖",
        "fr": f"Vous suivez les membres de {cnrp.label} (résumé quotidien)\u00a0:",
        "ar": f"أنت تتابع أعضاء {cnrp.label} (ملخص يومي):",
    }[language]
    assert said in page
    state = {
        "km": "អ្នកតាមដានសមាជិករបស់អង្គការនេះ",
        "fr": "Vous suivez les membres de cette organisation",
        "ar": "أنت تتابع أعضاء هذه المنظمة",
    }[language]
    assert state in page
    assert _english_left(page) == []


@LANGUAGES
def test_subscribing_to_cnrp_on_the_public_page_in_each_language(
    app: Flask, demo: dict[str, str], language: str
) -> None:
    visitor = _in(app.test_client(), language)
    form = text(visitor.get("/alerts/subscribe"))
    _reads_in(form, language, SUBSCRIBE[language])
    # The email language defaults to the page's.
    assert f'<option lang="{language}" selected value="{language}">' in form
    sent = visitor.post(
        "/alerts/subscribe",
        data={
            "csrf_token": csrf_token(visitor, "/alerts/subscribe"),
            "email": f"friend.{language}@example.org",
            "scope": "organization",
            "organization": organization("CNRP").public_id,
            "mode": "daily",
            "language": language,
        },
    )
    assert sent.status_code == 200
    heading = {
        "km": "<h1>សូមពិនិត្យអ៊ីមែលរបស់អ្នក</h1>",
        "fr": "<h1>Consultez vos e-mails</h1>",
        "ar": "<h1>تحقق من بريدك الإلكتروني</h1>",
    }[language]
    _reads_in(text(sent), language, heading)
    # A refused form: the field's message in the page's language too.
    refused = visitor.post(
        "/alerts/subscribe",
        data={
            "csrf_token": csrf_token(visitor, "/alerts/subscribe"),
            "email": "",
            "scope": "country",
            "mode": "daily",
            "language": language,
        },
    )
    assert refused.status_code == 422
    required = {
        "km": "ត្រូវតែបំពេញចន្លោះនេះ។",
        "fr": "Ce champ est obligatoire.",
        "ar": "هذا الحقل مطلوب.",
    }
    assert required[language] in text(refused)
    assert "This field is required." not in text(refused)


@LANGUAGES
def test_the_second_step_reads_in_the_visitors_language(app: Flask, language: str) -> None:
    from tests.web.test_second_factor import enrol_totp, password_step

    make_user("editor", "public", email="two.steps@example.org")
    first = app.test_client()
    login(first, "two.steps@example.org", PASSWORD)
    enrol_totp(first)
    browser = _in(app.test_client(), language)
    assert password_step(browser, "two.steps@example.org").status_code == 302
    page = text(browser.get("/login/second-step"))
    _reads_in(page, language, SECOND_STEP[language])
    refused = submit(browser, "/login/second-step", {"code": "000000"})
    assert refused.status_code == 401
    wrong = {
        "km": "លេខកូដនោះខុស ឬត្រូវបានប្រើរួចហើយ",
        "fr": "Ce code est faux ou a déjà servi",
        "ar": "هذا الرمز خاطئ أو استُخدم من قبل",
    }
    assert wrong[language] in text(refused)
    # "Confirm it's you" with a second factor asks for it, in the same language.
    confirm = text(_in(first, language).get("/account/confirm?next=/account/security"))
    code = {
        "km": "លេខកូដពីកម្មវិធីផ្ទៀងផ្ទាត់របស់អ្នក ឬលេខកូដសង្គ្រោះ",
        "fr": "Code de votre application d’authentification, ou code de secours",
        "ar": "الرمز من تطبيق المصادقة، أو رمز استرداد",
    }
    _reads_in(confirm, language, code[language])
