"""Browser helpers for the phone and accessibility tests: Debian's Chromium through Playwright,
the app served over HTTP, and axe-core (installed by ``make axe`` from package.json) run in a page.

Under ``CI=true`` a missing Chromium or axe-core fails the run; elsewhere the tests skip and say
which make target installs it.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

from tests.support.environment import unavailable

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("MONITOR_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
SMALL_PHONE = {"width": 320, "height": 640}


def require_tools(*, axe: bool = True) -> None:
    """Chromium (make system-deps) and, when asked, axe-core (make axe) must be installed."""
    if not Path(CHROMIUM).exists():
        unavailable(f"Chromium is missing ({CHROMIUM}); run make system-deps")
    if axe and not AXE.exists():
        unavailable(f"axe-core is missing ({AXE}); run make axe")


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """``app`` served over real HTTP on a free loopback port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@contextmanager
def chromium() -> Iterator[Any]:
    """One headless Chromium for a whole module (starting it is the slow part)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Findings:
    """What the checks found, page by page; empty when every page passed."""

    problems: dict[str, list[str]] = field(default_factory=dict)
    pages: int = 0

    def add(self, name: str, problem: str) -> None:
        """Note one problem on the page called ``name``."""
        self.problems.setdefault(name, []).append(problem)

    def report(self) -> str:
        """Every problem, one page per block, for the assertion message."""
        return "\n".join(
            f"{name}:\n" + "\n".join(f"  - {p}" for p in problems)
            for name, problems in self.problems.items()
        )


def overflow(page: Any) -> int | None:
    """How far the document is wider than the viewport, in CSS px (None when it fits)."""
    width, inner = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    return width - inner if width > inner else None


def console_problems(messages: list[str]) -> list[str]:
    """Console errors other than the pages answered 4xx on purpose (a form's 422, a 404)."""
    expected = "Failed to load resource: the server responded with a status of 4"
    return [m for m in messages if not m.startswith(expected)]


def axe_violations(page: Any) -> list[str]:
    """axe-core's violations on the page as it is now (every rule axe runs by default, any
    impact), one line each: rule, impact, and the first nodes' selectors."""
    # Evaluated through the DevTools protocol, so the page's CSP (script-src 'self') allows it.
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    results = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ') + ' ' + n.failureSummary)}))"
    )
    return [
        f"axe {v['id']} ({v['impact']}): {v['help']} — " + " | ".join(v["nodes"][:3])
        for v in results
    ]


# Set to a folder to keep a full-page screenshot of every page checked (to look at the layout).
SCREENSHOTS = os.environ.get("MONITOR_TEST_SCREENSHOTS", "")


# Cards whose content sticks out of them (a scrolling region keeps its overflow to itself).
_CARDS_OVERFLOWING = """() => [
  ...document.querySelectorAll('.panel, .filters, .login, .form fieldset')]
  .filter(card => card.scrollWidth > card.clientWidth + 1)
  .map(card => (card.id || card.getAttribute('aria-labelledby') || card.className)
    + ' by ' + (card.scrollWidth - card.clientWidth) + ' px')"""


def check_page(page: Any, name: str, findings: Findings, *, axe: bool = True) -> None:
    """The page fits the viewport's width, nothing sticks out of its card, and (when ``axe``)
    axe-core finds nothing."""
    page.wait_for_load_state("load")  # styles applied: an unstyled page is wider
    findings.pages += 1
    if SCREENSHOTS:
        width = page.viewport_size["width"]
        slug = "".join(c if c.isalnum() else "-" for c in name)
        shot = f"{SCREENSHOTS}/{width}-{findings.pages:02d}-{slug}.png"
        page.screenshot(path=shot, full_page=True)
    wider = overflow(page)
    if wider is not None:
        findings.add(name, f"{wider} px wider than the {page.viewport_size['width']} px viewport")
    for card in page.evaluate(_CARDS_OVERFLOWING):
        findings.add(name, f"content sticks out of a card: {card}")
    if axe:
        for violation in axe_violations(page):
            findings.add(name, violation)
