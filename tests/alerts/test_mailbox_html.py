"""The development mailbox shows an email's HTML part as its recipient would see it, in a frame
that runs no script and loads nothing, with the text part a click away."""

from __future__ import annotations

from collections.abc import Callable
from html import unescape
from html.parser import HTMLParser

from flask import Flask

from monitor.config import Settings
from monitor.mail.transport import mail_directory
from tests.support.accounts import client_for
from tests.support.alerts import open_case, record, run_alerts, subscribe
from tests.support.web import text

HOSTILE = "Eve <script>parent.document.title='owned'</script>"


class _Page(HTMLParser):
    """The frames of a page and every script element, as the browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[dict[str, str | None]] = []
        self.scripts: list[dict[str, str | None]] = []
        self.details: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "iframe":
            self.frames.append(dict(attrs))
        elif tag == "script":
            self.scripts.append(dict(attrs))
        elif tag == "details":
            self.details.append(dict(attrs))


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def _kept_alert(app: Flask, configure: Callable[..., Settings]) -> str:
    settings = configure(smtp_url=None)
    case = open_case(HOSTILE, since="2019")
    subscribe("ann@example.org")
    record(case, "jailed", "2020-02")
    run_alerts(settings)
    [name] = [p.name for p in mail_directory(settings.instance_path).iterdir()]
    return f"/alerts/mailbox/{name}"


def test_the_mailbox_shows_the_html_part_in_a_sandboxed_frame(
    app: Flask, configure: Callable[..., Settings]
) -> None:
    url = _kept_alert(app, configure)
    response = client_for(app, "editor", "public").get(url)
    assert response.status_code == 200
    page = _parse(text(response))

    [frame] = page.frames
    # No script, no same origin (an opaque origin cannot read this page or its cookies).
    sandbox = (frame["sandbox"] or "").split()
    assert "allow-scripts" not in sandbox
    assert "allow-same-origin" not in sandbox
    shown = frame["srcdoc"] or ""
    # The frame holds the HTML part: the headline, the button, the relevance line.
    assert "jailed — was at liberty</h1>" in shown
    assert "You follow every public case" in shown
    assert 'bgcolor="#1849a9"' in shown
    # Its own policy loads nothing from the network.
    assert (
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:; form-action 'none'\">" in shown
    )
    # The hostile name is text inside the framed document, never a script element in it ...
    framed = _parse(shown)
    assert framed.scripts == []
    assert "Eve &lt;script&gt;parent.document.title=&#39;owned&#39;&lt;/script&gt;" in shown
    # ... nor in the page around it: the page's only scripts are the app's own files.
    assert all((script.get("src") or "").startswith("/static/") for script in page.scripts)
    assert "<script>parent" not in text(response)

    # The text part is under a toggle, as typed.
    assert {"class": "email-text-part"} in page.details
    assert f"{HOSTILE} jailed — was at liberty" in _text_part(text(response))


def _text_part(html: str) -> str:
    start = html.index('<pre class="email-text">')
    return unescape(html[start : html.index("</pre>", start)])


def test_the_message_page_policy_lets_the_frame_style_itself_and_nothing_more(
    app: Flask, configure: Callable[..., Settings]
) -> None:
    url = _kept_alert(app, configure)
    response = client_for(app, "editor", "public").get(url)
    directives = response.headers["Content-Security-Policy"].split(";")
    policy = {name: value for name, _, value in (d.strip().partition(" ") for d in directives)}
    # The framed email's style attributes: allowed; scripts and remote loads: not.
    assert policy["style-src-attr"] == "'unsafe-inline'"
    assert policy["script-src"] == "'self'"
    assert policy["default-src"] == "'self'"
    assert policy["img-src"] == "'self' data:"
    assert policy["frame-ancestors"] == "'none'"
    # Every other page keeps the app's policy.
    other = client_for(app, "admin", "confidential").get("/alerts/mailbox")
    assert "style-src-attr" not in other.headers["Content-Security-Policy"]
