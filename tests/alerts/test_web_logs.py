"""The delivery log, the "alert sent to N" counts, resend, the mailbox and the subscriber list."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from monitor.config import Settings
from monitor.mail.transport import mail_directory
from monitor.models.alerts import DeliveryState
from tests.support.accounts import client_for, make_user
from tests.support.alerts import deliveries, follow, open_case, record, run_alerts, subscribe
from tests.support.smtp import SmtpSink
from tests.support.web import csrf_token, text


def test_case_page_counts_alerts_and_links_to_the_delivery_log(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink
) -> None:
    editor_client = client_for(app, "editor")
    viewer_client = client_for(app, "viewer", "public")
    for n in range(3):
        subscribe(f"reader{n}@example.org", name=f"Reader {n}")
    subscribe("gone@example.org")
    sink.fail("rcpt", "550 5.1.1 Unknown user", times=None, rcpt="gone@example.org")
    event = record(cnrp["Mao Monyvann"], "jailed", "2017-11")
    run_alerts(settings)

    case_url = f"/cases/{cnrp['Mao Monyvann']}"
    log_url = f"{case_url}/events/{event.public_id}/deliveries"
    page = text(editor_client.get(case_url))
    assert f'href="{log_url}">alert sent to 3</a>' in page
    assert "<strong>1 failed</strong>" in page
    # Viewers read the case but not who was emailed.
    assert "alert sent to" not in text(viewer_client.get(case_url))
    assert viewer_client.get(log_url).status_code == 403

    log = text(editor_client.get(log_url))
    assert "4 recipients · 3 sent · 1 failed" in log
    assert "reader0@example.org" in log
    assert "Reader 0" in log
    assert "550 5.1.1 Unknown user" in log
    assert log.count(">Resend</button>") == 1


def test_resend_a_failed_delivery_from_the_log(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink
) -> None:
    subscribe("flaky@example.org")
    sink.fail("data", "554 5.6.0 Message rejected")
    event = record(cnrp["Mao Monyvann"], "jailed", "2017-11")
    run_alerts(settings)
    [failed] = deliveries()
    assert failed.state == DeliveryState.FAILED.value

    editor = client_for(app, "editor")
    log_url = f"/cases/{cnrp['Mao Monyvann']}/events/{event.public_id}/deliveries"
    response = editor.post(
        f"/alerts/deliveries/{failed.public_id}/resend",
        data={"csrf_token": csrf_token(editor, log_url)},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == log_url
    [pending] = deliveries()
    assert pending.state == DeliveryState.PENDING.value
    run_alerts(settings)
    [sent] = deliveries()
    assert sent.state == DeliveryState.SENT.value
    assert sent.attempts == 2
    assert [m.rcpt_tos for m in sink.messages] == [["flaky@example.org"]]
    # A sent delivery cannot be resent.
    again = editor.post(
        f"/alerts/deliveries/{sent.public_id}/resend",
        data={"csrf_token": csrf_token(editor, log_url)},
        follow_redirects=True,
    )
    assert "only a failed delivery can be sent again" in text(again)


def test_delivery_log_of_a_case_above_the_clearance_is_not_found(
    app: Flask, settings: Settings, sink: SmtpSink
) -> None:
    secret = open_case("Confidential Chea", level="confidential")
    follow(make_user("admin", "confidential", email="boss@example.org"))
    event = record(secret, "jailed", "2021-03")
    run_alerts(settings)
    [delivery] = deliveries()
    editor = client_for(app, "editor", "restricted")
    url = f"/cases/{secret.public_id}/events/{event.public_id}/deliveries"
    assert editor.get(url).status_code == 404
    response = editor.post(
        f"/alerts/deliveries/{delivery.public_id}/resend",
        data={"csrf_token": csrf_token(editor, "/alerts")},
    )
    assert response.status_code == 404


def test_without_smtp_alerts_are_kept_as_files_and_read_on_the_mailbox_page(
    app: Flask, cnrp: dict[str, str], configure: Callable[..., Settings]
) -> None:
    settings = configure(smtp_url=None)
    editor = client_for(app, "editor", "public")
    subscribe("ann@example.org")
    secret = open_case("Confidential Chea", level="confidential", native="ឈា")
    follow(make_user("admin", "confidential", email="boss@example.org"))
    record(cnrp["Mao Monyvann"], "jailed", "2017-11")
    record(secret, "jailed", "2021-03")
    run_alerts(settings)

    files = sorted(p.name for p in mail_directory(settings.instance_path).iterdir())
    # Mao Monyvann's change to ann and boss, Chea's to boss only; named by their Message-ID.
    assert len(files) == 3
    assert all(name.startswith("alert.") and name.endswith(".eml") for name in files)

    page = text(editor.get("/alerts/mailbox"))
    assert "Mao Monyvann jailed — was at liberty" in page
    # An editor cleared for public cases never sees the confidential case's alert.
    assert "Confidential Chea" not in page
    readable = [n for n in files if f"/alerts/mailbox/{n}" in page]
    assert len(readable) == 2
    body = text(editor.get(f"/alerts/mailbox/{readable[0]}"))
    assert "Custody status: at liberty → jailed" in body
    assert "List-Unsubscribe-Post" in body
    [hidden] = [n for n in files if n not in readable]
    assert editor.get(f"/alerts/mailbox/{hidden}").status_code == 404
    assert editor.get("/alerts/mailbox/..%2Fsecret_key").status_code == 404
    assert editor.get("/alerts/mailbox/secret_key").status_code == 404

    admin = client_for(app, "admin", "confidential")
    assert "Confidential Chea" in text(admin.get("/alerts/mailbox"))
    viewer = client_for(app, "viewer", "confidential")
    assert viewer.get("/alerts/mailbox").status_code == 403


def test_admins_list_subscribers(
    app: Flask, admin_client: FlaskClient, editor_client: FlaskClient, settings: Settings
) -> None:
    subscribe("ann@example.org", name="Ann Example")
    subscribe("waiting@example.org", confirmed=False)
    follow(make_user("viewer", "restricted"))
    page = text(admin_client.get("/alerts/subscribers"))
    assert "3 active subscriptions" in page
    assert "ann@example.org" in page
    assert "Ann Example" in page
    assert "not yet" in page
    assert "viewer.restricted@example.org" in page
    assert "(user, restricted)" in page
    assert editor_client.get("/alerts/subscribers").status_code == 403
