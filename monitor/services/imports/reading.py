"""Reading an uploaded CSV file: decode it, find the header, number the records, check the header.

Everything here is about the file as a file. A problem that stops reading altogether (not UTF-8,
NUL bytes, no header, broken quoting, too many rows) raises :class:`ValidationError` with a
``file`` message, which :func:`~monitor.services.imports.checking.check` turns into the one
problem of its report; a size over the limit raises :class:`FileTooLarge` instead, which the web
and API answer with 413. The columns a file may have are in :mod:`monitor.services.csv_format`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from monitor.presentation.translation import format_number
from monitor.presentation.translation import gettext as _
from monitor.services import ValidationError
from monitor.services.csv_format import CHARGE_COLUMN, IMPORT_COLUMNS, REQUIRED_COLUMNS
from monitor.services.imports.report import Problem


class FileTooLarge(Exception):
    """The upload is over ``MONITOR_IMPORT_MAX_BYTES`` (the web and API answer 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the file is larger than the limit of {limit:,} bytes")
        self.limit = limit

    def field_message(self) -> str:
        """What the file field is told, in the language in force."""
        return _("is larger than the limit of %(limit)s bytes", limit=format_number(self.limit))

    def message(self) -> str:
        """The whole refusal, in the language in force (the command line prints it)."""
        return _(
            "the file is larger than the limit of %(limit)s bytes",
            limit=format_number(self.limit),
        )


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        byte = f"0x{data[exc.start]:02X}"
        raise ValidationError(
            {
                "file": _(
                    "The file is not UTF-8 (byte %(byte)s at position %(position)s): save it "
                    "as “CSV UTF-8” and upload it again.",
                    byte=byte,
                    position=exc.start,
                )
            }
        ) from None


@dataclass
class CsvFile:
    """A decoded CSV file: its header row and number, and its rows numbered as a spreadsheet
    numbers them (a record whose cell holds line breaks is one row)."""

    header_row: int
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]


def read_records(data: bytes, max_rows: int) -> CsvFile:
    """The header and the data rows with their row numbers; file-level problems raise."""
    if not data.strip():
        raise ValidationError({"file": _("The file is empty.")})
    text = _decode(data)
    if "\x00" in text:
        raise ValidationError(
            {"file": _("The file is not a text CSV file (it contains NUL bytes).")}
        )
    delimiter = detect_separator(text)
    reader = enumerate(
        csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True), start=1
    )
    try:
        header_row, header = next((n, cells) for n, cells in reader if any(map(clean, cells)))
    except (StopIteration, csv.Error):
        raise ValidationError({"file": _("The file has no header row.")}) from None

    def records() -> Iterator[tuple[int, list[str]]]:
        """The rows that are not blank."""
        count, number = 0, header_row
        try:
            for number, cells in reader:
                if not any(cell.strip() for cell in cells):
                    continue
                count += 1
                if count > max_rows:
                    limit = f"{max_rows:,}"
                    raise ValidationError(
                        {
                            "file": _(
                                "The file has more than %(count)s rows; at most %(count)s are "
                                "accepted at once.",
                                count=limit,
                            )
                        }
                    )
                yield number, cells
        except csv.Error as exc:
            raise ValidationError(
                {
                    "file": _(
                        "The file is not valid CSV after row %(row)s: %(error)s.",
                        row=number,
                        error=exc,
                    )
                }
            ) from None

    return CsvFile(header_row, [clean(h).lower() for h in header], records())


SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab"}


def detect_separator(text: str) -> str:
    """The separator of the header line: the one (comma, semicolon or tab) that splits it into
    the most columns this import knows, then into the most cells; a comma when none splits it."""
    first = next((line for line in text.splitlines() if line.strip()), "")

    def score(delimiter: str) -> tuple[int, int]:
        try:
            cells = next(csv.reader([first], delimiter=delimiter), [])
        except csv.Error:
            return (0, 0)
        names = [clean(c).lower() for c in cells]
        known = sum(1 for n in names if n in IMPORT_COLUMNS or CHARGE_COLUMN.match(n))
        return (known, len(cells))

    return max(SEPARATORS, key=lambda d: (score(d), d == ","))


def date_problem(exc: ValueError) -> str:
    """Why ``PartialDate.parse`` refused a date (the domain says it in English), in the
    language in force."""
    text = str(exc)
    if text == "use YYYY, YYYY-MM or YYYY-MM-DD":
        return _("use YYYY, YYYY-MM or YYYY-MM-DD")
    if text == "not a real calendar date":
        return _("not a real calendar date")
    return text


def clean(cell: str) -> str:
    """The cell without surrounding blanks or byte-order marks (files pasted together keep them)."""
    return cell.replace("\ufeff", "").strip()


def check_header(row: int, header: list[str]) -> list[Problem]:
    """Unknown, repeated and missing columns; a column without a name is ignored (spreadsheets
    save empty columns after the last one), unless a row has a value in it (``checking._cells``)."""
    problems = []
    seen: set[str] = set()
    for name in filter(None, header):
        if name in seen:
            problems.append(Problem(row, name, _("appears twice in the header row")))
        seen.add(name)
        if name not in IMPORT_COLUMNS and not CHARGE_COLUMN.match(name):
            problems.append(
                Problem(row, name, _("is not a column this import knows (see the template)"))
            )
    for name in REQUIRED_COLUMNS:
        if name not in seen:
            problems.append(Problem(row, name, _("is missing from the header row")))
    if problems and len(seen) <= 1:
        only = next(iter(seen), "")
        other = [d for d in SEPARATORS if d in only]
        if not other:
            message = _(
                "The file's header row has one column only (separate the columns with a "
                "comma, a semicolon or a tab)."
            )
        else:
            held = {
                ",": _("it holds a comma"),
                ";": _("it holds a semicolon"),
                "\t": _("it holds a tab"),
            }[other[0]]
            message = _(
                "The file's header row has one column only (%(held)s: separate the columns "
                "with a comma, a semicolon or a tab).",
                held=held,
            )
        return [Problem(0, "", message)]
    return problems
