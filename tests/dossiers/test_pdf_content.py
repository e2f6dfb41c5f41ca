"""What a reader finds in a real dossier PDF, read back with poppler."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.domain import Certainty, PartialDate
from monitor.extensions import db
from monitor.models import Case, Organization
from monitor.pdf import assemble
from monitor.pdf.html import template_version
from monitor.pdf.render import render
from monitor.services import cases, people
from tests.support.dossiers import Pdf, audit_entries, dossier, render_queued, request_via_web


def _cnrp() -> Organization:
    return db.session.scalars(select(Organization).where(Organization.short_name == "CNRP")).one()


def _download(client: FlaskClient, public_id: str) -> bytes:
    response = client.get(f"/dossiers/{public_id}/pdf")
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/pdf"
    return response.data


def test_case_dossier_states_who_where_for_what_and_according_to_whom(
    app: Flask, editor_client: FlaskClient, demo: dict[str, str], read_pdf: type[Pdf]
) -> None:
    case_id = demo["Kem Sokha"]
    public_id = request_via_web(editor_client, f"/cases/{case_id}", kind="case", case_id=case_id)
    assert render_queued(app, public_id) == "ready"
    row = dossier(public_id)
    pdf = read_pdf(_download(editor_client, public_id))

    text, flat = pdf.words, pdf.flat
    assert "Kem Sokha" in text
    assert "កឹមសុខា" in flat  # the native-script name, as extracted
    assert "jailed since September 2017" in text
    assert "Treason" in text
    assert "Criminal Code, art. 443" in text
    assert "maximum 30 years" in text
    assert "30 years" in text
    assert "acting party leader" in text
    assert "AFP" in text
    assert "CNRP MPs flee ‘dictator’" in text
    assert "(month precision)" in text
    assert "confirmed" in text
    assert row.snapshot_at is not None
    assert f"Data as of {row.snapshot_at:%Y-%m-%d %H:%M} UTC" in text
    assert "PUBLIC" in text


def test_organization_dossier_lists_every_member_with_status_and_charges(
    app: Flask, viewer_client: FlaskClient, demo: dict[str, str], read_pdf: type[Pdf]
) -> None:
    cnrp = _cnrp()
    extra = []
    for n in range(1, 13):  # the demo's three members plus a dozen synthetic MPs
        person = people.create_person("test", people.PersonInput(name=f"Synthetic Member {n:02d}"))
        people.add_membership("test", person, cnrp, "Member of Parliament")
        if n % 3:
            cases.create_case(
                "test",
                person,
                cases.CaseInput(country="KH", title=f"Synthetic case {n:02d}"),
                cases.StatusInput(
                    status="fled" if n % 2 else "jailed", occurred_on=PartialDate.parse("2018-01")
                ),
            )
        extra.append(person.name)
    db.session.commit()

    page = f"/organizations/{cnrp.public_id}"
    public_id = request_via_web(
        viewer_client, page, kind="organization", organization_id=cnrp.public_id
    )
    assert render_queued(app, public_id) == "ready"
    pdf = read_pdf(_download(viewer_client, public_id))
    text = pdf.words

    for name in ["Kem Sokha", "Mu Sochua", "Mao Monyvann", *extra]:
        assert name in text, name
    summary = text[text.index("Cases by current custody status") :]
    counts = dict(re.findall(r"(jailed|fled|at liberty) (\d+)", summary))
    assert counts == {"jailed": "5", "fled": "5", "at liberty": "1"}  # 1+4 jailed, 1+4 fled
    assert "no case" in text  # members without a case are listed too
    assert "acting party leader" in text
    assert "deputy leader" in text
    assert "Treason" in text
    # The longest exposure and whose it is: different people's sentences are never added up.
    assert "Longest exposure (open charges): 30 years — Kem Sokha" in text
    assert "Cambodia National Rescue Party" in text
    assert "55" in text


def test_page_count_metadata_bookmarks_and_page_numbers(
    app: Flask, admin_client: FlaskClient, demo: dict[str, str], read_pdf: type[Pdf]
) -> None:
    cnrp = _cnrp()
    page = f"/organizations/{cnrp.public_id}"
    public_id = request_via_web(
        admin_client,
        page,
        kind="organization",
        organization_id=cnrp.public_id,
        audience="confidential",
    )
    started = dt.datetime.now(dt.UTC).replace(microsecond=0)
    assert render_queued(app, public_id) == "ready"
    row = dossier(public_id)
    pdf = read_pdf(_download(admin_client, public_id))
    info = pdf.info

    assert int(info["Pages"]) == row.pages
    assert row.pages >= 2  # cover, contents and summary on page 1, then the members' cases
    assert info["Title"] == "CNRP — organization dossier" == row.title
    assert info["Author"] == "case monitor"  # the organization, never the requester
    created = dt.datetime.strptime(info["CreationDate"] + " +0000", "%a %b %d %H:%M:%S %Y %Z %z")
    assert abs(created - started) < dt.timedelta(minutes=2)
    assert f"Page 1 of {row.pages}" in pdf.text
    assert f"Page {row.pages} of {row.pages}" in pdf.text
    assert "CONFIDENTIAL" in pdf.text
    # Table of contents with page numbers: each member's case starts on the page it names.
    assert re.search(r"Kem Sokha · .*\.{3,}\s*\d+", pdf.text)
    # Bookmarks: the outline holds the title and a bookmark per case.
    objects = pdf.objects()
    assert b"/Outlines" in objects
    titles = [
        bytes.fromhex(h.decode()).decode("utf-16")
        for h in re.findall(rb"/Title\s*<([Ff][Ee][Ff][Ff][0-9A-Fa-f]*)>", objects)
    ] + [t.decode("latin-1") for t in re.findall(rb"/Title\s*\(([^)]*)\)", objects)]
    assert any("Mu Sochua" in t for t in titles), titles
    assert "Kem Sokha · កឹម សុខា" in titles, titles
    assert "CNRP — organization dossier" in titles, titles
    assert len(pdf.data) == row.size


def test_sha256_on_the_page_is_the_downloaded_files_and_is_audited(
    app: Flask, viewer_client: FlaskClient, demo: dict[str, str]
) -> None:
    case_id = demo["Mu Sochua"]
    public_id = request_via_web(viewer_client, f"/cases/{case_id}", kind="case", case_id=case_id)
    render_queued(app, public_id)
    page = viewer_client.get(f"/dossiers/{public_id}").get_data(as_text=True)
    shown = re.search(r'id="dossier-sha256"[^>]*>([0-9a-f]{64})<', page)
    assert shown
    data = viewer_client.get(f"/dossiers/{public_id}/pdf").data
    assert hashlib.sha256(data).hexdigest() == shown.group(1)  # what `sha256sum` prints
    [ready] = audit_entries("dossier.ready", public_id)
    [download] = audit_entries("dossier.download", public_id)
    assert ready.after is not None
    assert download.after is not None
    assert ready.after["sha256"] == download.after["sha256"] == shown.group(1)
    assert download.actor == "viewer.public@example.org"


def test_khmer_burmese_and_arabic_names_render_with_real_glyphs(
    app: Flask,
    demo: dict[str, str],
    noto_fonts: None,
    weasyprint_warnings: object,
    read_pdf: type[Pdf],
) -> None:
    names = {
        "Aung San Suu Kyi": "အောင်ဆန်းစုကြည်",
        "Kem Sokha (again)": "កឹម សុខា",
        "Mohamed Morsi": "محمد مرسي",
    }
    for latin, native in names.items():
        person = people.create_person("test", people.PersonInput(name=latin, name_native=native))
        cases.create_case(
            "test",
            person,
            cases.CaseInput(country="MM", title=f"{latin}: detained"),
            cases.StatusInput(
                status="jailed",
                occurred_on=PartialDate.parse("2021-02-01"),
                certainty=Certainty.CONFIRMED.value,
            ),
        )
    db.session.commit()
    from monitor.domain import Confidentiality
    from monitor.services.dossiers import scope  # the loader the worker uses
    from tests.support.accounts import make_user

    user = make_user("viewer", "public", email="scripts@example.org")
    content = scope.load_selection(user, {"country": "MM"}, Confidentiality.PUBLIC, "t", 50)
    now = dt.datetime.now(dt.UTC)
    pdf = read_pdf(render(assemble(content, snapshot_at=now, generated_at=now)).data)

    warnings = weasyprint_warnings.messages  # type: ignore[attr-defined]
    assert not [w for w in warnings if ".notdef" in w], warnings
    for native in names.values():
        assert re.sub(r"\s", "", native) in pdf.flat, native
    fonts = pdf.fonts
    for family in ("Noto-Sans-Myanmar", "Noto-Sans-Khmer", "Arabic"):
        assert family in fonts, fonts

    # The check above can fail: a character no installed font has is logged as .notdef.
    render(assemble(content, snapshot_at=now, generated_at=now).replace("Summary", "\ue000"))
    assert [w for w in warnings if ".notdef" in w]


def test_template_version_changes_with_the_template(app: Flask) -> None:
    version = template_version()
    assert re.fullmatch(r"[0-9a-f]{64}", version)
    assert template_version() == version  # computed once per process


def test_snapshot_time_is_when_the_data_was_read_not_the_request(
    app: Flask, editor_client: FlaskClient, demo: dict[str, str], read_pdf: type[Pdf]
) -> None:
    case_id = demo["Mao Monyvann"]
    public_id = request_via_web(editor_client, f"/cases/{case_id}", kind="case", case_id=case_id)
    case = db.session.scalars(select(Case).where(Case.public_id == case_id)).one()
    cases.record_status(
        "test", case, cases.StatusInput(status="jailed", occurred_on=PartialDate.parse("2018-03"))
    )
    db.session.commit()
    render_queued(app, public_id)  # renders what is true now, after the request
    text = read_pdf(_download(editor_client, public_id)).words
    assert "jailed since March 2018" in text


def _toc_number(text: str, entry: str) -> int:
    line = next(line for line in text.splitlines() if line.startswith(entry) and "..." in line)
    return int(line.rsplit(".", 1)[-1])


def test_contents_page_numbers_hold_however_long_the_cover(
    app: Flask, demo: dict[str, str], read_pdf: type[Pdf]
) -> None:
    from monitor.domain import Confidentiality
    from monitor.services.dossiers import scope
    from tests.support.accounts import make_user

    case = db.session.scalars(select(Case).where(Case.public_id == demo["Kem Sokha"])).one()
    case.title = "A very long case title that keeps going " * 7
    case.person.name = "Kem Sokha, also written with a great many honorifics " * 3
    db.session.commit()
    user = make_user("viewer", "public", email="toc@example.org")
    content = scope.load_case(user, demo["Kem Sokha"], Confidentiality.PUBLIC, "t")
    now = dt.datetime.now(dt.UTC)
    html = assemble(content, snapshot_at=now, generated_at=now)
    anchor = content.cases[0].anchor
    assert f'href="#{anchor}" data-page="1"' in html  # stated, not counted by WeasyPrint

    for stated in (html, html.replace(f'#{anchor}" data-page="1"', f'#{anchor}" data-page="2"')):
        pdf = read_pdf(render(stated).data)
        text = pdf.text
        pages = text.split("\f")
        toc = _toc_number(text, "Kem Sokha, also")
        heading_page = next(
            n for n, page in enumerate(pages, 1) if "Name in original script" in page
        )
        assert toc == heading_page  # the wrong statement was caught and counted instead
