"""What an alert email says and how it is built."""

from __future__ import annotations

from flask import Flask

from monitor.config import Settings
from monitor.domain import PartialDate, Sentence, SentenceKind
from monitor.extensions import db
from monitor.services import charges, sources
from monitor.services.cases import StatusInput, record_status
from tests.support.alerts import case_of, deliveries, open_case, record, run_alerts, subscribe
from tests.support.smtp import SmtpSink


def test_subject_names_country_person_and_both_statuses(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink
) -> None:
    subscribe("ann@example.org")
    record(cnrp["Mao Monyvann"], "jailed", "2017-11-16", location="Phnom Penh")
    run_alerts(settings)

    [message] = sink.messages
    assert message.subject == "[Cambodia] Mao Monyvann: at liberty → jailed"
    assert message.message["From"].addresses[0].addr_spec == "alerts@monitor.test"
    assert message.message["To"].addresses[0].addr_spec == "ann@example.org"


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
