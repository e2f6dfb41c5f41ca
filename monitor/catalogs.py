"""The message catalogs' chores, run by ``make`` (``python -m monitor.catalogs COMMAND``):

- ``messages``: extract every marked string from ``monitor/`` and ``templates/`` (``babel.cfg``)
  into ``monitor/translations/messages.pot`` (not committed) and merge it into each language's
  ``.po``, where new strings wait, empty, for a translation;
- ``compile``: compile each ``.po`` to the ``.mo`` the app reads (not committed);
- ``init CODE``: start the catalog of a new language, marked as awaiting review.

It runs pybabel with the register's keywords, so ``make`` and tests/test_translations.py
extract exactly the same strings.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.frontend import CommandLineInterface

from monitor.config import PROJECT_ROOT, TRANSLATIONS_DIR

MAPPING = PROJECT_ROOT / "babel.cfg"
TEMPLATE = TRANSLATIONS_DIR / "messages.pot"
# Besides pybabel's own (_, gettext, ngettext, N_, pgettext, …): the lazy forms for labels
# defined at import time (forms, vocabularies).
KEYWORDS = ("_l", "lazy_gettext", "lazy_ngettext:1,2", "lazy_pgettext:1c,2")
# The header comment of a catalog a machine drafted; a reviewer removes the REVIEW line.
REVIEW_COMMENT = (
    "# REVIEW: machine-drafted, awaiting review by a native speaker.\n"
    "# A reviewer who has checked every entry removes the line above;\n"
    "# until then the language menu says so.\n"
)


def _pybabel(*args: str) -> None:
    status = CommandLineInterface().run(["pybabel", "-q", *args])  # type: ignore[no-untyped-call]
    if status:
        raise SystemExit(status)


def extract(output: Path = TEMPLATE) -> Path:
    """Write every marked string of the current sources to ``output`` (a ``.pot``)."""
    keywords = [arg for keyword in KEYWORDS for arg in ("-k", keyword)]
    _pybabel(
        "extract",
        "-F",
        str(MAPPING),
        *keywords,
        # Sorted, without line numbers: helpers marking different pages add entries in
        # different places of each catalog, and moving a line changes nothing.
        "--no-location",
        "--sort-output",
        "--project",
        "case monitor",
        "-o",
        str(output),
        str(PROJECT_ROOT / "monitor"),
        str(PROJECT_ROOT / "templates"),
    )
    return output


def update() -> None:
    """Extract, then merge the template into each language's catalog (new strings empty,
    changed ones fuzzy)."""
    extract()
    _pybabel(
        "update",
        "-i",
        str(TEMPLATE),
        "-d",
        str(TRANSLATIONS_DIR),
        "--no-fuzzy-matching",
        "--ignore-obsolete",
    )


def compile_all() -> None:
    """Compile every catalog to its ``.mo``."""
    _pybabel("compile", "-d", str(TRANSLATIONS_DIR))


def init(code: str) -> Path:
    """Start the catalog of language ``code`` from the template, marked as awaiting review."""
    extract()
    _pybabel("init", "-i", str(TEMPLATE), "-d", str(TRANSLATIONS_DIR), "-l", code)
    po = TRANSLATIONS_DIR / code / "LC_MESSAGES" / "messages.po"
    po.write_text(REVIEW_COMMENT + po.read_text(encoding="utf-8"), encoding="utf-8")
    return po


def main(argv: list[str] | None = None) -> None:
    """``python -m monitor.catalogs messages|compile|init CODE``."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["messages"]:
        update()
    elif args == ["compile"]:
        compile_all()
    elif len(args) == 2 and args[0] == "init":
        print(init(args[1]))
    else:
        raise SystemExit("usage: python -m monitor.catalogs messages | compile | init CODE")


if __name__ == "__main__":
    main()
