"""How a login's browser reads: ``Firefox on Linux`` from its User-Agent header.

A rough, readable label for the sessions page and the new-device email, never used to decide
anything (a User-Agent says whatever the client likes).
"""

from __future__ import annotations

import re

from monitor.presentation.translation import N_, gettext

# First match wins: Edge and Opera also say "Chrome", Chrome also says "Safari".
_BROWSERS = (
    ("Edge", re.compile(r"\bEdg(e|A|iOS)?/")),
    ("Opera", re.compile(r"\bOPR/|\bOpera\b")),
    ("Firefox", re.compile(r"\bFirefox/|\bFxiOS/")),
    ("Chromium", re.compile(r"\bChromium/")),
    ("Chrome", re.compile(r"\bChrome/|\bCriOS/")),
    ("Safari", re.compile(r"\bSafari/")),
    ("curl", re.compile(r"^curl/")),
)
_SYSTEMS = (
    ("Android", re.compile(r"\bAndroid\b")),
    ("iOS", re.compile(r"\biPhone\b|\biPad\b|\biPod\b")),
    ("Windows", re.compile(r"\bWindows\b")),
    ("macOS", re.compile(r"\bMac OS X\b|\bMacintosh\b")),
    ("ChromeOS", re.compile(r"\bCrOS\b")),
    ("Linux", re.compile(r"\bLinux\b")),
)
UNKNOWN_BROWSER = N_("unknown browser")


def browser_label(user_agent: str | None) -> str:
    """``Firefox on Linux``, ``Safari on iOS``; ``unknown browser`` when nothing matches (in
    the language in force; the browsers' and systems' names stay as they are)."""
    agent = user_agent or ""
    browser = next((name for name, pattern in _BROWSERS if pattern.search(agent)), None)
    system = next((name for name, pattern in _SYSTEMS if pattern.search(agent)), None)
    if browser and system:
        return gettext("%(browser)s on %(system)s", browser=browser, system=system)
    if browser:
        return browser
    if system:
        return gettext("a browser on %(system)s", system=system)
    return gettext(UNKNOWN_BROWSER)
