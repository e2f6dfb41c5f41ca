"""How the register's values read and look, the same on pages, in PDFs and in emails.

It sits below services: it knows the domain's vocabulary and value types and nothing of the
web, services, pdf, mail or Celery, so every output can share it.

- :mod:`monitor.presentation.wording` — custody statuses (order, labels, colours), partial
  dates, sentences, country names and times;
- :mod:`monitor.presentation.charts` — the geometry of the SVG bar charts.
"""

from monitor.presentation.charts import Bar, BarChart, status_chart
from monitor.presentation.wording import (
    APPROXIMATELY,
    SENTENCE_KIND_LABELS,
    STATUS_COLOURS,
    STATUS_ORDER,
    country_name,
    date_text,
    sentence_text,
    status_label,
    utc_text,
    vocabulary_label,
)

__all__ = [
    "APPROXIMATELY",
    "SENTENCE_KIND_LABELS",
    "STATUS_COLOURS",
    "STATUS_ORDER",
    "Bar",
    "BarChart",
    "country_name",
    "date_text",
    "sentence_text",
    "status_chart",
    "status_label",
    "utc_text",
    "vocabulary_label",
]
