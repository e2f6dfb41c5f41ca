"""The register on a phone, in Chromium: the smallest screens, the menu without script, charts
that can be read, focus that can be seen, controls big enough to hit, badges that differ by more
than their colour. (Every page at 390 px with axe-core: test_axe_pages.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask

from tests.support.accounts import PASSWORD, make_user
from tests.support.alerts import case_of, record
from tests.support.browser import (
    PHONE,
    SMALL_PHONE,
    Findings,
    check_page,
    chromium,
    console_problems,
    require_tools,
    serving,
)

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 800}
TABLET = {"width": 768, "height": 1024}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium for the module."""
    require_tools()
    with chromium() as running:
        yield running


@contextmanager
def tab(browser: Any, viewport: dict[str, int], *, javascript: bool = True) -> Iterator[Any]:
    """A fresh tab (its own cookies) of the given size; console errors kept on ``page.errors``."""
    context = browser.new_context(viewport=viewport, java_script_enabled=javascript)
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    try:
        yield page
    finally:
        context.close()


def log_in(page: Any, base: str, email: str) -> None:
    """Through the login form, as a person would (it needs no script)."""
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")


@pytest.mark.parametrize("viewport", [SMALL_PHONE, TABLET], ids=["320px", "768px"])
def test_the_main_pages_fit_a_small_phone_and_a_tablet(
    app: Flask, demo: dict[str, str], browser: Any, viewport: dict[str, int]
) -> None:
    admin = make_user("admin", "confidential", email="small.phone@example.org")
    kem = case_of(demo["Kem Sokha"])
    findings = Findings()
    with serving(app) as base, tab(browser, viewport) as page:
        log_in(page, base, admin.email)
        for name, path in [
            ("dashboard", "/"),
            ("cases", "/cases"),
            ("case", f"/cases/{kem.public_id}"),
            ("record status", f"/cases/{kem.public_id}/status"),
            ("people", "/people"),
            ("person", f"/people/{kem.person.public_id}"),
            ("organizations", "/organizations"),
            ("organization", f"/organizations/{kem.person.memberships[0].organization.public_id}"),
            ("dossiers", "/dossiers"),
            ("data", "/data"),
            ("alerts", "/alerts"),
            ("users", "/admin/users"),
            ("tokens", "/account/tokens"),
            ("account", "/account"),
            ("open a case", "/cases/new"),
            ("edit case", f"/cases/{kem.public_id}/edit"),
            ("edit person", f"/people/{kem.person.public_id}/edit"),
        ]:
            page.goto(base + path)
            check_page(page, name, findings)
        if viewport == SMALL_PHONE:
            page.get_by_text("Menu", exact=True).click()
            check_page(page, "tokens: menu open", findings)
        errors = console_problems(page.errors)
    assert findings.pages >= 17
    assert findings.problems == {}, f"\n{findings.report()}"
    assert errors == []


def test_the_changed_forms_their_errors_and_the_follow_control_fit_a_small_phone(
    app: Flask, demo: dict[str, str], browser: Any
) -> None:
    from playwright.sync_api import expect

    editor = make_user("editor", "confidential", email="forms.phone@example.org")
    kem = case_of(demo["Kem Sokha"])
    record(kem.public_id, "house_arrest", "2018-09-10")  # the title "jailed…" is now stale
    findings = Findings()
    with serving(app) as base, tab(browser, SMALL_PHONE) as page:
        log_in(page, base, editor.email)
        for name, path, button, fill in [
            ("open a case: errors", "/cases/new", "Open the case", {}),
            ("record status: errors", f"/cases/{kem.public_id}/status", "Record", {}),
            ("edit case: errors", f"/cases/{kem.public_id}/edit", "Save", {"#closed_on": "2018"}),
            ("account: errors", "/account", "Save the name", {"#name": "x" * 201}),
        ]:
            page.goto(base + path)
            for selector, value in fill.items():
                # Past the box's maxlength, as a browser that ignores it could send.
                page.eval_on_selector(selector, "box => box.removeAttribute('maxlength')")
                page.fill(selector, value)
            page.get_by_role("button", name=button, exact=True).click()
            expect(page.locator(".field-error").first).to_be_visible()
            check_page(page, name, findings)
        page.goto(f"{base}/cases/{kem.public_id}")
        expect(page.locator("#stale-title")).to_be_visible()
        check_page(page, "case: the title flagged", findings)
        page.get_by_role("button", name="Follow", exact=True).click()
        expect(page.get_by_role("button", name="Switch to daily digest")).to_be_visible()
        check_page(page, "case: followed, the mode and its switch", findings)
        errors = console_problems(page.errors)
    assert findings.pages == 6
    assert findings.problems == {}, f"\n{findings.report()}"
    assert errors == []


def test_the_menu_opens_without_script_on_a_phone_and_is_a_bar_on_a_desktop(
    app: Flask, demo: dict[str, str], browser: Any
) -> None:
    from playwright.sync_api import expect

    editor = make_user("editor", "confidential", email="menu@example.org")
    with serving(app) as base:
        with tab(browser, PHONE, javascript=False) as phone:
            log_in(phone, base, editor.email)
            cases = phone.get_by_role("link", name="Cases", exact=True)
            expect(cases).to_be_hidden()
            menu = phone.locator("summary", has_text="Menu")
            expect(menu).to_be_visible()
            # The bar under the language menu's strip: one line, the brand and the Menu button.
            header = phone.locator(".header-bar").bounding_box()
            assert header is not None
            assert header["height"] < 80
            strip = phone.locator(".language-menu").bounding_box()
            assert strip is not None
            assert strip["height"] < 40  # the languages on one short line above it
            menu.click()
            expect(cases).to_be_visible()
            expect(phone.get_by_role("button", name="Log out")).to_be_visible()
            cases.click()
            expect(phone).to_have_url(f"{base}/cases")
            phone.locator("summary", has_text="Menu").click()
            expect(phone.locator('.nav-links a[aria-current="page"]')).to_have_text("Cases")

        with tab(browser, DESKTOP) as desktop:
            log_in(desktop, base, editor.email)
            expect(desktop.locator("summary", has_text="Menu")).to_be_hidden()
            links = desktop.locator(".nav-links a")
            expect(links.first).to_be_visible()
            tops = {round(box["y"]) for box in (a.bounding_box() for a in links.all()) if box}
            assert len(tops) == 1  # one bar
            desktop.get_by_role("link", name="People", exact=True).click()
            expect(desktop).to_have_url(f"{base}/people")


CHART_TEXT = """() => [...document.querySelectorAll('figure.chart svg')].map(svg => {
  const texts = [...svg.querySelectorAll('text')];
  const bars = [...svg.querySelectorAll('rect')];
  const labels = texts.filter(t => t.getAttribute('text-anchor') === 'end');
  return {
    smallest: Math.min(...texts.map(t =>
      parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a)),
    overlaps: labels.filter((label, i) =>
      label.getBoundingClientRect().right > bars[i].getBoundingClientRect().left + 0.5
      || label.getBoundingClientRect().left < svg.getBoundingClientRect().left - 0.5).length,
    name: svg.querySelector('title').textContent,
  };
})"""


@pytest.mark.parametrize("viewport", [PHONE, SMALL_PHONE], ids=["390px", "320px"])
def test_chart_text_is_at_least_12_px_on_a_phone(
    app: Flask, demo: dict[str, str], browser: Any, viewport: dict[str, int]
) -> None:
    viewer = make_user("viewer", "public", email="charts@example.org")
    cnrp = case_of(demo["Kem Sokha"]).person.memberships[0].organization.public_id
    with serving(app) as base, tab(browser, viewport) as page:
        log_in(page, base, viewer.email)
        charts = page.evaluate(CHART_TEXT)
        page.goto(f"{base}/organizations/{cnrp}")
        charts += page.evaluate(CHART_TEXT)
    assert len(charts) == 2
    for chart in charts:
        assert chart["smallest"] >= 12, chart
        assert chart["overlaps"] == 0, chart  # every label left of its bar, none cut off
        # The drawing's name reads every count, so a screen reader hears the chart too.
        assert "jailed 1" in chart["name"]
        assert "fled 1" in chart["name"]


# The focused element's outline against what is behind it (the first ancestor with a background).
FOCUS_RING = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  let behind = el.parentElement, background = 'rgba(0, 0, 0, 0)';
  while (behind) {
    background = getComputedStyle(behind).backgroundColor;
    if (!background.endsWith(', 0)') && background !== 'transparent') break;
    behind = behind.parentElement;
  }
  return {
    what: el.tagName + ' ' + (el.textContent || el.name || '').trim().slice(0, 30),
    style: style.outlineStyle, width: parseFloat(style.outlineWidth),
    colour: style.outlineColor, behind: background || 'rgb(255, 255, 255)',
  };
}"""


def _luminance(rgb: str) -> float:
    parts = [float(x) for x in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]]
    linear = [
        c / 255 / 12.92 if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in parts
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    """WCAG contrast ratio of two CSS ``rgb(...)`` colours."""
    high, low = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_keyboard_focus_is_a_ring_of_3_to_1_or_more(
    app: Flask, demo: dict[str, str], browser: Any
) -> None:
    editor = make_user("editor", "confidential", email="keyboard@example.org")
    kem = demo["Kem Sokha"]
    rings = []
    with serving(app) as base, tab(browser, DESKTOP) as page:
        log_in(page, base, editor.email)
        page.goto(f"{base}/cases/{kem}")
        for _ in range(60):  # every stop: the skip link, the header, the buttons, the footer
            page.keyboard.press("Tab")
            ring = page.evaluate(FOCUS_RING)
            if ring["what"].startswith("BODY"):
                break  # past the last one
            rings.append(ring)
    kinds = {ring["what"].split()[0] for ring in rings}
    assert {"A", "BUTTON", "SELECT"} <= kinds
    assert len(rings) > 20
    for ring in rings:
        assert ring["style"] == "solid", ring
        assert ring["width"] >= 2, ring
        assert contrast(ring["colour"], ring["behind"]) >= 3, ring


SMALL_TARGETS = """() => [...document.querySelectorAll(
    'button, select, input:not([type=hidden]), textarea, summary, .button, .pagination a')]
  .filter(el => el.getClientRects().length)
  .map(el => [el.tagName + '#' + el.id + ' ' + (el.textContent || '').trim().slice(0, 20),
              el.getBoundingClientRect()])
  .filter(([, box]) => box.width < 24 || box.height < 24)
  .map(([what, box]) => what + ' ' + Math.round(box.width) + 'x' + Math.round(box.height))"""


def test_controls_are_at_least_24_px_each_way(
    app: Flask, demo: dict[str, str], browser: Any
) -> None:
    editor = make_user("editor", "confidential", email="targets@example.org")
    kem = demo["Kem Sokha"]
    small: dict[str, list[str]] = {}
    heights: list[float] = []
    with serving(app) as base, tab(browser, PHONE) as page:
        log_in(page, base, editor.email)
        for path in ["/cases", f"/cases/{kem}", f"/cases/{kem}/status", "/alerts", "/data"]:
            page.goto(base + path)
            page.get_by_text("Menu", exact=True).click()
            if found := page.evaluate(SMALL_TARGETS):
                small[path] = found
        page.goto(f"{base}/cases/{kem}")
        for select in page.locator("select").all():
            box = select.bounding_box()
            assert box is not None
            heights.append(box["height"])
    assert small == {}
    # The dossier's audience and the follow mode sit beside 40 px buttons: as tall as them.
    assert len(heights) == 2
    assert min(heights) >= 40


BADGE_ICONS = """() => Object.fromEntries([...document.querySelectorAll('#status-counts .badge')]
  .map(badge => [badge.textContent.trim(), getComputedStyle(badge, '::before').maskImage]))"""


def test_each_status_has_an_icon_of_its_own_besides_its_colour(
    app: Flask, demo: dict[str, str], browser: Any
) -> None:
    viewer = make_user("viewer", "public", email="icons@example.org")
    with serving(app) as base, tab(browser, PHONE) as page:
        log_in(page, base, viewer.email)
        icons = page.evaluate(BADGE_ICONS)
        answers = {
            status: page.request.get(url[url.index('"') + 1 : url.rindex('"')])
            for status, url in icons.items()
        }
        loaded = {
            status: (r.status, r.headers["content-type"], b"<svg" in r.body())
            for status, r in answers.items()
        }
    assert set(icons) == {"jailed", "house arrest", "disappeared", "fled", "deceased", "at liberty"}
    assert len(set(icons.values())) == 6
    for status, answer in loaded.items():
        assert answer == (200, "image/svg+xml; charset=utf-8", True), status
