"""The dossier pages (list, progress, request button) in Khmer and Arabic: translated words, no
English sentence of theirs left, the progress script's sentences in the page's language."""

from __future__ import annotations

from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.extensions import db
from monitor.models import Organization
from tests.support.dossiers import render_queued, request_via_web

ENGLISH = [
    "My dossiers",
    "PDF briefs you asked for",
    "Audience",
    "Requested",
    "Expires",
    "State:",
    "Ready: the PDF can be downloaded.",
    "Download PDF",
    "Deleted after",
    "To check the file you received",
    "organization dossier",
    "audience · requested",
    "This page updates itself",
]
WORDS = {
    "km": ["ឯកសាររបស់ខ្ញុំ", "រួចរាល់៖ អាចទាញយក PDF បាន។", "ទាញយក PDF", "CNRP — ឯកសារអង្គការ"],
    "ar": ["ملفاتي", "جاهز: يمكن تنزيل ملف PDF.", "تنزيل ملف PDF", "CNRP — ملف المنظمة"],
}


@pytest.mark.parametrize("language", ["km", "ar"])
def test_dossier_pages_read_in_the_users_language(
    app: Flask, viewer_client: FlaskClient, demo: dict[str, str], language: str
) -> None:
    viewer_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    # The request button on a case page.
    case_page = unescape(viewer_client.get(f"/cases/{demo['Kem Sokha']}").get_data(as_text=True))
    assert "Dossier (PDF)" not in case_page
    assert ("ឯកសារ (PDF)" if language == "km" else "ملف (PDF)") in case_page

    # A dossier asked for from the organization's page is in the page's language.
    cnrp = db.session.scalars(select(Organization).where(Organization.short_name == "CNRP")).one()
    page = f"/organizations/{cnrp.public_id}"
    public_id = request_via_web(
        viewer_client, page, kind="organization", organization_id=cnrp.public_id
    )
    queued = unescape(viewer_client.get(f"/dossiers/{public_id}").get_data(as_text=True))
    assert "Queued: waiting" not in queued
    assert "data-progress-updating" in queued
    assert "This page updates itself" not in queued  # the script's sentence, translated
    assert render_queued(app, public_id) == "ready"

    detail = unescape(viewer_client.get(f"/dossiers/{public_id}").get_data(as_text=True))
    listing = unescape(viewer_client.get("/dossiers").get_data(as_text=True))
    both = detail + listing
    for word in WORDS[language]:
        assert word in both, word
    for english in ENGLISH:
        assert english not in both, english
