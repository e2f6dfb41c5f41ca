"""What an alert email says and how it is built."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from flask import Flask
from markupsafe import escape

from monitor.config import Settings
from monitor.domain import PartialDate, Sentence, SentenceKind
from monitor.extensions import db
from monitor.services import charges, sources
from monitor.services.cases import StatusInput, record_status
from tests.support.alerts import (
    case_of,
    deliveries,
    open_case,
    organization,
    record,
    run_alerts,
    subscribe,
)
from tests.support.smtp import SmtpSink


def _without_bdi(html: str) -> str:
    """``html`` less the ``<bdi>`` that isolate names (their text stays)."""
    return html.replace("<bdi>", "").replace("</bdi>", "")


def _first_heading(html: str) -> str:
    found = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.DOTALL)
    assert found, "no h1 in the HTML part"
    return _without_bdi(found.group(1))


class _Links(HTMLParser):
    """The links of an HTML part, each with the table cell around it (a button is a cell)."""

    def __init__(self) -> None:
        super().__init__()
        self.cell: dict[str, str | None] | None = None
        self.link: dict[str, str | None] | None = None
        self.text = ""
        self.found: list[tuple[dict[str, str | None] | None, dict[str, str | None], str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "td":
            self.cell = dict(attrs)
        elif tag == "a":
            self.link, self.text = dict(attrs), ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self.cell = None
        elif tag == "a" and self.link is not None:
            self.found.append((self.cell, self.link, self.text.strip()))
            self.link = None

    def handle_data(self, data: str) -> None:
        if self.link is not None:
            self.text += data


def _links(html: str) -> list[tuple[dict[str, str | None] | None, dict[str, str | None], str]]:
    parser = _Links()
    parser.feed(html)
    return parser.found


def test_subject_and_heading_headline_the_change(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink
) -> None:
    subscribe("ann@example.org")
    record(cnrp["Mao Monyvann"], "jailed", "2017-11-16", location="Phnom Penh")
    run_alerts(settings)

    [message] = sink.messages
    assert message.subject == "Mao Monyvann jailed — was at liberty"
    # The name is isolated, so it keeps its direction in a right-to-left email too.
    assert "<bdi>Mao Monyvann</bdi> jailed" in message.part("html")
    assert _first_heading(message.part("html")) == "Mao Monyvann jailed — was at liberty"
    assert message.part("plain").splitlines()[0] == "Mao Monyvann jailed — was at liberty"
    assert message.message["From"].addresses[0].addr_spec == "alerts@monitor.test"
    assert message.message["To"].addresses[0].addr_spec == "ann@example.org"


def test_a_first_status_headlines_a_new_case_and_a_release_says_released(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink
) -> None:
    subscribe("ann@example.org")
    open_case("Sam Rainsy", status="fled", since="2015-11")
    record(cnrp["Kem Sokha"], "at_liberty", "2018-09-10")
    run_alerts(settings)

    subjects = sorted(m.subject for m in sink.messages)
    assert subjects == ["Kem Sokha released — was jailed", "Sam Rainsy fled (new case)"]
    for message in sink.messages:
        assert _first_heading(message.part("html")) == message.subject


@pytest.mark.parametrize(
    ("scope", "relevance"),
    [
        ("organization", "You follow members of CNRP; Mao Monyvann is its Member of Parliament."),
        ("country", "You follow cases in Cambodia; Mao Monyvann is CNRP's Member of Parliament."),
        ("case", "You follow Mao Monyvann's case; Mao Monyvann is CNRP's Member of Parliament."),
        ("all", "You follow every public case; Mao Monyvann is CNRP's Member of Parliament."),
    ],
)
def test_the_email_says_which_organization_and_role_made_it_relevant(
    cnrp: dict[str, str],
    settings: Settings,
    sink: SmtpSink,
    scope: str,
    relevance: str,
) -> None:
    mao = case_of(cnrp["Mao Monyvann"])
    subscribe(
        "ann@example.org",
        scope,
        org=organization() if scope == "organization" else None,
        country="KH" if scope == "country" else None,
        case=mao if scope == "case" else None,
    )
    record(mao, "jailed", "2017-11-16")
    run_alerts(settings)

    [message] = sink.messages
    assert relevance in message.part("plain")
    assert str(escape(relevance)) in _without_bdi(message.part("html"))


def test_the_case_link_is_a_button_in_the_html_and_a_url_in_the_text(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink
) -> None:
    subscribe("ann@example.org")
    record(cnrp["Mao Monyvann"], "jailed", "2017-11-16")
    run_alerts(settings)

    [message] = sink.messages
    url = f"http://monitor.test/cases/{cnrp['Mao Monyvann']}"
    [(cell, link, label)] = [
        found for found in _links(message.part("html")) if found[1]["href"] == url
    ]
    assert label == "Open Mao Monyvann's case"
    # A button mail clients draw: a coloured table cell, the link's own inline style.
    assert cell is not None
    assert cell.get("bgcolor") == "#1849a9"
    assert "background-color:#1849a9" in (cell.get("style") or "")
    assert "color:#ffffff" in (link.get("style") or "")
    assert "padding:" in (link.get("style") or "")
    assert "<style" not in message.part("html")
    assert f"Open Mao Monyvann's case: {url}" in message.part("plain")


def test_native_names_carry_their_own_language_in_an_english_email(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink
) -> None:
    subscribe("ann@example.org")
    record(cnrp["Kem Sokha"], "house_arrest", "2018-09")
    run_alerts(settings)

    [message] = sink.messages
    html = message.part("html")
    assert '<html lang="en" dir="ltr">' in html
    assert '<span lang="km">(កឹម សុខា)</span>' in html
    assert 'lang="und"' not in html


def test_body_tells_who_what_since_when_where_charges_sources_and_why(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink
) -> None:
    kem = case_of(cnrp["Kem Sokha"])
    subscribe("ann@example.org", "case", case=kem)
    hrw = sources.create_source(
        "test",
        sources.SourceInput(
            title="Cambodia: Opposition leader released", publisher="HRW", url="https://hrw.test/r"
        ),
    )
    record_status(
        "test",
        kem,
        StatusInput(
            status="house_arrest",
            occurred_on=PartialDate.parse("2018-09"),
            location="his home in Phnom Penh",
            certainty="reported",
            sources=[hrw],
        ),
    )
    db.session.commit()
    run_alerts(settings)

    [message] = sink.messages
    text = message.part("plain")
    html = message.part("html")
    for part in (text, html):
        assert "Kem Sokha" in part
        assert "កឹម សុខា" in part  # the Khmer name renders in both parts
        assert "September 2018" in part  # month precision, as recorded
        assert "his home in Phnom Penh" in part
        assert "reported" in part
        assert "Treason" in part
        assert "maximum 30 years" in part
        assert "Cambodia: Opposition leader released" in part
        assert f"http://monitor.test/cases/{kem.public_id}" in part
        assert "http://monitor.test/alerts/unsubscribe/" in part
    assert "because you follow Kem Sokha's case." in text
    assert "because you follow Kem Sokha&#39;s case." in html
    assert "Custody status: jailed → house arrest" in text
    assert "Maximum exposure: 30 years" in text
    assert message.message.get_content_type() == "multipart/alternative"


def test_about_dates_and_year_precision_read_as_recorded(
    app: Flask, settings: Settings, sink: SmtpSink
) -> None:
    case = open_case("Tep Vanny", since="2015")
    subscribe("ann@example.org")
    record(case, "jailed", "2016-08", about=True)
    run_alerts(settings)

    [message] = sink.messages
    assert "Since: c. August 2016" in message.part("plain")
    assert "<td>c. August 2016</td>" in message.part("html")


def test_user_text_is_escaped_in_the_html_part(
    app: Flask, settings: Settings, sink: SmtpSink
) -> None:
    case = open_case('Eve <img src=x onerror="alert(1)">', since="2019")
    subscribe("ann@example.org")
    charges.add_charge(
        "test",
        case,
        charges.ChargeInput(
            offence="<b>Incitement</b>",
            max_sentence=Sentence(SentenceKind.TERM, 24),
            legal_basis="Art. 495 & 496",
        ),
    )
    db.session.commit()
    run_alerts(settings)
    sink.messages.clear()
    record(case, "jailed", "2020-02", description="<script>steal()</script>", location="<i>x</i>")
    run_alerts(settings)

    [message] = sink.messages
    html = message.part("html")
    assert "<script>" not in html
    assert "&lt;script&gt;steal()&lt;/script&gt;" in html
    assert "<img" not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    assert "<b>Incitement" not in html
    assert "&lt;b&gt;Incitement&lt;/b&gt;" in html
    assert "Art. 495 &amp; 496" in html
    assert "<i>x</i>" not in html
    # The hostile name heads the email and labels its button, escaped in both.
    hostile = "Eve &lt;img src=x onerror=&#34;alert(1)&#34;&gt;"
    assert _first_heading(html) == f"{hostile} jailed — was at liberty"
    assert f"Open <bdi>{hostile}</bdi>'s case</a>" in html
    assert message.subject == 'Eve <img src=x onerror="alert(1)"> jailed — was at liberty'
    # The text part carries the words as typed; it is not HTML.
    assert "<script>steal()</script>" in message.part("plain")


def test_message_id_is_the_same_for_every_attempt_of_a_delivery(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink
) -> None:
    subscription = subscribe("ann@example.org")
    event = record(cnrp["Mao Monyvann"], "jailed", "2017-11")
    sink.fail("data", "451 4.3.0 Try again later")
    run_alerts(settings)

    [delivery] = deliveries()
    expected = f"<alert.{event.public_id}.{subscription.public_id}@monitor.test>"
    assert delivery.message_id == expected
    assert [m.message_id for m in sink.messages] == [expected]
    assert delivery.attempts == 2


def test_every_alert_offers_one_click_unsubscribe_headers(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink
) -> None:
    subscription = subscribe("ann@example.org")
    record(cnrp["Mao Monyvann"], "jailed", "2017-11")
    run_alerts(settings)

    [message] = sink.messages
    url = f"http://monitor.test/alerts/unsubscribe/{subscription.unsubscribe_token}"
    assert message.message["List-Unsubscribe"] == f"<{url}>"
    assert message.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.message["Auto-Submitted"] == "auto-generated"
