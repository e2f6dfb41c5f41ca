"""Markup and URLs typed into any field come out as text: nothing fetched, nothing embedded.

Measured with WeasyPrint's default fetcher: ``<link rel="attachment" href="file:///etc/passwd">``
embeds the file in the PDF, and an ``<img>`` pointing at ``http://127.0.0.1:…`` is requested.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from monitor.domain import PartialDate, Sentence, SentenceKind
from monitor.extensions import db
from monitor.pdf.fetcher import RefusedURL, SafeFetcher
from monitor.pdf.render import render
from monitor.services import cases, charges, people, sources
from monitor.services.users import UserInput, create_user
from tests.support.accounts import PASSWORD, login
from tests.support.dossiers import Pdf, render_queued, request_via_web


class Listener:
    """A real HTTP server on 127.0.0.1 that records every request it receives."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                listener.requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "text/css")
                self.end_headers()
                self.wfile.write(b"body { color: red }")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Listener:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    """A listening server; tests assert it was never called."""
    with Listener() as running:
        yield running


def payloads(url: str) -> list[str]:
    """Hostile text for every field: file reads, an attachment, a local request, a stylesheet."""
    return [
        '<img src="file:///etc/passwd">',
        '<link rel="attachment" href="file:///etc/passwd">',
        f'<img src="{url}/img">',
        f'<link rel="stylesheet" href="{url}/css">',
        f'<svg><image href="{url}/svg"/></svg>',
        '<a rel="attachment" href="file:///etc/passwd">x</a>',
        f'<style>@import "{url}/import";</style>',
    ]


def _hostile_register(url: str) -> dict[str, str]:
    """Every text field of every entity a dossier shows, filled with markup."""
    p = payloads(url)
    joined = " ".join(p)
    org = people.create_organization(
        "test", people.OrganizationInput(name=f"Party {p[0]}", short_name="P<b>", kind="other")
    )
    person = people.create_person(
        "test",
        people.PersonInput(
            name=f"Name {p[1]}"[:200],
            name_native=p[2][:200],
            aliases=[p[3][:200], p[4][:200]],
            gender=p[0][:40],
            occupation=p[5][:200],
            biography=joined,
        ),
    )
    people.add_membership("test", person, org, p[1][:120])
    source = sources.create_source(
        "test",
        sources.SourceInput(
            title=p[4][:300],
            publisher=p[0],
            url=f"{url}/source-link",  # an http link is allowed: shown, never fetched
            quote=joined,
            published_on=PartialDate.parse("2020"),
        ),
    )
    case = cases.create_case(
        "test",
        person,
        cases.CaseInput(country="KH", title=p[1][:300], summary=joined, tags=[p[0], p[3]]),
        cases.StatusInput(
            status="jailed",
            occurred_on=PartialDate.parse("2020-01"),
            location=p[2][:300],
            description=joined,
            sources=[source],
        ),
    )
    charges.add_charge(
        "test",
        case,
        charges.ChargeInput(
            offence=p[5][:300],
            legal_basis=p[1][:300],
            max_sentence=Sentence(SentenceKind.LIFE),
            stage="charged",
            sources=[source],
        ),
    )
    db.session.commit()
    return {"case_id": case.public_id, "organization_id": org.public_id}


def _assert_harmless(pdf: Pdf, listener: Listener) -> None:
    assert listener.requests == []
    assert pdf.attachments.strip() == "0 embedded files"
    text = pdf.words
    assert "root:x:0:0" not in text
    assert '<img src="file:///etc/passwd">' in text  # shown as the text it is
    assert '<link rel="attachment" href="file:///etc/passwd">' in text
    assert f'{listener.url}/img">' in text


@pytest.mark.parametrize("kind", ["case", "organization"])
def test_markup_in_every_text_field_is_printed_not_obeyed(
    app: Flask, listener: Listener, read_pdf: type[Pdf], kind: str
) -> None:
    ids = _hostile_register(listener.url)
    # The requester's own name is typed text too (and must not reach the PDF).
    create_user(
        "test",
        UserInput(
            email="hostile@example.org",
            role="viewer",
            clearance="public",
            name='<link rel="attachment" href="file:///etc/passwd">',
        ),
        PASSWORD,
    )
    db.session.commit()
    client: FlaskClient = app.test_client()
    login(client, "hostile@example.org")
    target = (
        f"/cases/{ids['case_id']}"
        if kind == "case"
        else (f"/organizations/{ids['organization_id']}")
    )
    key = f"{kind}_id"
    public_id = request_via_web(client, target, kind=kind, **{key: ids[key]})
    assert render_queued(app, public_id) == "ready"
    pdf = read_pdf(client.get(f"/dossiers/{public_id}/pdf").data)
    _assert_harmless(pdf, listener)
    # The requester's name is not in the PDF at all (tests/dossiers/test_pdf_metadata.py).
    assert pdf.info["Author"] == "case monitor"


def test_fetcher_refuses_files_outside_its_folder_and_every_network_url(
    listener: Listener, tmp_path: Path
) -> None:
    assets = tmp_path / "assets"
    assets.mkdir()
    (assets / "ok.css").write_text("p { color: black }")
    (tmp_path / "secret.txt").write_text("secret")
    (assets / "escape.css").symlink_to(tmp_path / "secret.txt")
    fetcher = SafeFetcher(assets)

    assert fetcher.fetch((assets / "ok.css").as_uri()).read() == b"p { color: black }"
    assert fetcher.fetch("data:text/plain;base64,aGk=").read() == b"hi"
    for url in [
        "file:///etc/passwd",
        (assets / "escape.css").as_uri(),  # a symlink out of the folder
        (assets / ".." / "secret.txt").as_uri(),
        f"file://{assets}/../secret.txt",
        f"file://evil.example{assets}/ok.css",
        f"{listener.url}/direct",
        "https://example.org/x.png",
        "ftp://127.0.0.1/x",
    ]:
        with pytest.raises(RefusedURL):
            fetcher.fetch(url)
    assert listener.requests == []


def test_even_raw_html_cannot_reach_out_through_the_renderer(
    listener: Listener, read_pdf: type[Pdf]
) -> None:
    """If a template ever forgot to escape, the fetcher still holds: the second wall."""
    html = (
        "<html><head><title>raw</title>"
        + "".join(payloads(listener.url))
        + f'<link rel="stylesheet" href="{listener.url}/head.css"></head>'
        + f'<body><p>raw</p><img src="{listener.url}/body.png">'
        + '<img src="file:///etc/hostname"><object data="file:///etc/passwd"></object>'
        + f'<p style="background: url({listener.url}/bg.png)">bg</p></body></html>'
    )
    fetcher = SafeFetcher()
    pdf = read_pdf(render(html, fetcher).data)
    assert listener.requests == []
    assert pdf.attachments.strip() == "0 embedded files"
    assert any(url.startswith("file:///etc/passwd") for url in fetcher.refused)
    assert any(url.startswith(listener.url) for url in fetcher.refused)


def test_assembled_dossier_fetches_only_its_own_stylesheet(
    app: Flask, demo: dict[str, str]
) -> None:
    from monitor.domain import Confidentiality
    from monitor.pdf import assemble
    from monitor.services.dossiers import scope
    from tests.support.accounts import make_user

    user = make_user("viewer", "public", email="fetch@example.org")
    content = scope.load_case(user, demo["Kem Sokha"], Confidentiality.PUBLIC, "t")
    now = dt.datetime.now(dt.UTC)

    class Recording(SafeFetcher):
        def __init__(self) -> None:
            super().__init__()
            self.fetched: list[str] = []

        def fetch(self, url: str, headers: object = None) -> object:
            self.fetched.append(url)
            return super().fetch(url, headers)

    fetcher = Recording()
    render(assemble(content, snapshot_at=now, generated_at=now), fetcher)
    assert [url.rsplit("/", 1)[-1] for url in fetcher.fetched] == ["dossier.css"]
    assert fetcher.refused == []
