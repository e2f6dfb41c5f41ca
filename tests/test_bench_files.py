"""The benchmark's synthetic import file is one the import takes: a column added to the template
must not shift its cells into other columns (which once stopped ``make bench`` at the import)."""

from __future__ import annotations

from flask import Flask

from bench.bulk import synthetic_file
from monitor.extensions import db
from monitor.services import imports
from monitor.services.people import OrganizationInput, create_organization


def test_the_bulk_benchmarks_file_checks_out(app: Flask) -> None:
    create_organization(
        "test", OrganizationInput(name="Bench Party", short_name="BENCH", kind="political_party")
    )
    db.session.commit()
    report = imports.check(synthetic_file(8), None, app.config["SETTINGS"])
    assert report.problems == []
    assert report.ok
