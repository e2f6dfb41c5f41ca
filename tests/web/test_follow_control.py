"""The follow control on case and organization pages: what you follow and how often are said
apart, and the mode can be switched without unfollowing (issue 16, part 4)."""

from __future__ import annotations

import html
import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.extensions import db
from monitor.models import Subscription
from tests.support.accounts import client_for
from tests.support.alerts import case_of
from tests.support.web import text


def control(page: str) -> str:
    """The follow control of a page, tags stripped."""
    start = page.index('<div class="follow-control"')
    block = page[start : page.index("</div>", start)]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", block)).split())


def press(browser: FlaskClient, url: str, button: str) -> str:
    """Send the form on ``url`` whose button reads ``button``, with every value it holds (the
    CSRF token too), as a browser would; the page it leads to."""
    page = text(browser.get(url))
    for form in re.findall(r"<form .*?</form>", page, re.DOTALL):
        label = re.search(r"<button[^>]*>(.*?)</button>", form, re.DOTALL)
        if label and re.sub(r"<[^>]+>.*", "", label.group(1)).strip() == button:
            action = re.search(r'action="([^"]+)"', form)
            assert action is not None
            fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
            chosen = re.search(r'<select name="(\w+)"[^>]*>\s*<option value="([^"]*)"', form)
            if chosen:  # a select sends its first option unless another is chosen
                fields.setdefault(chosen.group(1), chosen.group(2))
            response = browser.post(action.group(1), data=fields, follow_redirects=True)
            assert response.status_code == 200
            return text(response)
    raise AssertionError(f"no button {button!r} on {url}")


def live(user_email: str) -> list[Subscription]:
    """The user's subscriptions that still send."""
    db.session.expire_all()
    rows = db.session.scalars(select(Subscription).where(Subscription.email == user_email))
    return [s for s in rows if s.unsubscribed_at is None]


def test_follow_shows_state_and_mode_apart_and_switches_mode(
    app: Flask, demo: dict[str, str]
) -> None:
    viewer = client_for(app, "viewer", "public")
    email = "viewer.public@example.org"
    url = f"/cases/{demo['Mao Monyvann']}"
    assert control(text(viewer.get(url))) == "Email me immediate emails daily digest Follow"

    page = press(viewer, url, "Follow")
    assert "You follow Mao Monyvann's case (immediate emails)" in html.unescape(page)
    assert control(page) == (
        "You follow this case · immediate emails "
        "Switch to daily digest for Mao Monyvann’s case Unfollow Mao Monyvann’s case"
    )
    [followed] = live(email)
    assert (followed.scope, followed.mode) == ("case", "immediate")

    page = press(viewer, url, "Switch to daily digest")
    assert "Alerts about Mao Monyvann's case now come as daily digest." in html.unescape(page)
    assert control(page).startswith(
        "You follow this case · daily digest Switch to immediate emails"
    )
    [switched] = live(email)
    assert switched.id == followed.id  # the same subscription, not a second one
    assert switched.mode == "daily"

    page = press(viewer, url, "Switch to immediate emails")
    assert control(page).startswith("You follow this case · immediate emails")
    assert [s.mode for s in live(email)] == ["immediate"]

    page = press(viewer, url, "Unfollow")
    assert "You no longer follow Mao Monyvann's case." in html.unescape(page)
    assert control(page) == "Email me immediate emails daily digest Follow"
    assert live(email) == []


def test_an_organization_is_followed_as_a_daily_digest_from_its_page(
    app: Flask, demo: dict[str, str]
) -> None:
    viewer = client_for(app, "viewer", "public")
    org = case_of(demo["Kem Sokha"]).person.memberships[0].organization
    url = f"/organizations/{org.public_id}"
    page = text(viewer.get(url))
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    viewer.post(
        "/alerts/follow",
        data={
            "csrf_token": token.group(1),
            "scope": "organization",
            "target": org.public_id,
            "mode": "daily",
            "next": url,
        },
    )
    assert control(text(viewer.get(url))).startswith(
        "You follow this organization’s members · daily digest Switch to immediate emails"
    )
    # Without its CSRF token a switch is refused and changes nothing.
    refused = viewer.post(
        "/alerts/follow",
        data={"scope": "organization", "target": org.public_id, "mode": "immediate"},
    )
    assert refused.status_code == 400
    assert [s.mode for s in live("viewer.public@example.org")] == ["daily"]
