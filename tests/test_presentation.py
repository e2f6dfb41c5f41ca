"""One wording for pages, PDFs and emails: dates, sentences, statuses, countries, charts."""

from __future__ import annotations

from collections import Counter

from monitor.domain import CustodyStatus, PartialDate, Sentence, SentenceKind, StatusCounts
from monitor.presentation import (
    STATUS_COLOURS,
    STATUS_ORDER,
    country_name,
    date_text,
    sentence_text,
    status_chart,
)
from monitor.web import helpers


def test_an_approximate_date_reads_circa_on_pages_pdfs_and_emails() -> None:
    may = PartialDate.parse("2017-05")
    assert date_text(may, about=True) == "c. May 2017"
    assert helpers.partial_date(may, about=True) == "c. May 2017"
    assert date_text(PartialDate.parse("2017-05-03")) == "3 May 2017"


def test_missing_values_are_none_here_and_a_dash_on_pages() -> None:
    assert date_text(None) is None
    assert sentence_text(None) is None
    assert helpers.partial_date(None) == "—"
    assert helpers.sentence(None) == "—"
    assert helpers.status_label(None) == "—"
    assert sentence_text(Sentence(SentenceKind.TERM, 30 * 12)) == "30 years"


def test_country_names_fall_back_to_the_code() -> None:
    assert country_name("kh") == "Cambodia"
    assert country_name("XX") == "XX"
    assert country_name(None) == ""


def test_status_chart_lists_every_status_most_serious_first() -> None:
    chart = status_chart(StatusCounts(Counter({"jailed": 2, "fled": 1})), "Cases")
    assert [bar.label for bar in chart.bars] == [s.label for s in STATUS_ORDER]
    assert STATUS_ORDER[0] is CustodyStatus.JAILED
    jailed, fled = chart.bars[0], chart.bars[STATUS_ORDER.index(CustodyStatus.FLED)]
    assert (jailed.value, jailed.colour) == (2, STATUS_COLOURS[CustodyStatus.JAILED])
    assert fled.width == jailed.width / 2
