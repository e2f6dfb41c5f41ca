"""Custody status colours that colour-blind readers can tell apart — a check axe-core cannot make.

Each status colour is simulated as seen with deuteranopia, protanopia and tritanopia (Machado,
Oliveira & Fernandes 2009, full severity) and every pair must stay clearly apart (CIEDE2000 ≥ 18;
the palette before issue 16 had 0.6 between house arrest and fled under deuteranopia). The badges'
white text needs 4.5:1 on each. The stylesheet's badge colours are the charts' colours, and each
status has an icon of its own, so colour is never the only sign.
"""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path

import pytest

from monitor.domain import CustodyStatus
from monitor.presentation import STATUS_COLOURS

STATIC = Path(__file__).resolve().parents[2] / "monitor" / "static"
MACHADO = {
    "deuteranopia": (
        (0.367322, 0.860646, -0.227968),
        (0.280085, 0.672501, 0.047413),
        (-0.011820, 0.042940, 0.968881),
    ),
    "protanopia": (
        (0.152286, 1.052583, -0.204868),
        (0.114503, 0.786281, 0.099216),
        (-0.003882, -0.048116, 1.051998),
    ),
    "tritanopia": (
        (1.255528, -0.076749, -0.178779),
        (-0.078411, 0.930809, 0.147602),
        (0.004733, 0.691367, 0.303900),
    ),
}
Rgb = tuple[float, float, float]


def linear(hex_colour: str) -> Rgb:
    """sRGB ``#rrggbb`` as linear light, 0 to 1."""
    values = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in values)
    return r, g, b


def seen_with(vision: str, rgb: Rgb) -> Rgb:
    """How ``rgb`` (linear) looks with a colour vision deficiency, clipped to the gamut."""
    if vision == "normal":
        return rgb
    r, g, b = (
        min(1.0, max(0.0, sum(m * c for m, c in zip(row, rgb, strict=True))))
        for row in MACHADO[vision]
    )
    return r, g, b


def lab(rgb: Rgb) -> Rgb:
    """CIE L*a*b* (D65) of a linear sRGB colour."""
    r, g, b = rgb
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def ciede2000(one: Rgb, two: Rgb) -> float:
    """The CIEDE2000 colour difference of two L*a*b* colours (1 is just noticeable)."""
    (l1, a1, b1), (l2, a2, b2) = one, two
    c_mean = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_mean**7 / (c_mean**7 + 25**7)))
    a1, a2 = (1 + g) * a1, (1 + g) * a2
    c1, c2 = math.hypot(a1, b1), math.hypot(a2, b2)
    h1, h2 = (math.degrees(math.atan2(b, a)) % 360 for a, b in ((a1, b1), (a2, b2)))
    dh = 0.0 if c1 * c2 == 0 else (h2 - h1 + 180) % 360 - 180
    d_l, d_c = l2 - l1, c2 - c1
    d_h = 2 * math.sqrt(c1 * c2) * math.sin(math.radians(dh / 2))
    l_mean, c_mean = (l1 + l2) / 2, (c1 + c2) / 2
    if c1 * c2 == 0:
        h_mean = h1 + h2
    elif abs(h1 - h2) <= 180:
        h_mean = (h1 + h2) / 2
    else:
        h_mean = (h1 + h2 + (360 if h1 + h2 < 360 else -360)) / 2
    t = (
        1
        - 0.17 * math.cos(math.radians(h_mean - 30))
        + 0.24 * math.cos(math.radians(2 * h_mean))
        + 0.32 * math.cos(math.radians(3 * h_mean + 6))
        - 0.20 * math.cos(math.radians(4 * h_mean - 63))
    )
    s_l = 1 + 0.015 * (l_mean - 50) ** 2 / math.sqrt(20 + (l_mean - 50) ** 2)
    s_c = 1 + 0.045 * c_mean
    s_h = 1 + 0.015 * c_mean * t
    rotation = -math.sin(math.radians(60 * math.exp(-(((h_mean - 275) / 25) ** 2)))) * (
        2 * math.sqrt(c_mean**7 / (c_mean**7 + 25**7))
    )
    return math.sqrt(
        (d_l / s_l) ** 2
        + (d_c / s_c) ** 2
        + (d_h / s_h) ** 2
        + rotation * (d_c / s_c) * (d_h / s_h)
    )


def contrast_with_white(hex_colour: str) -> float:
    """WCAG contrast of white text on ``hex_colour``."""
    r, g, b = linear(hex_colour)
    return 1.05 / (0.2126 * r + 0.7152 * g + 0.0722 * b + 0.05)


def test_ciede2000_matches_the_published_test_data() -> None:
    # Sharma, Wu & Dalal (2005), pairs 1 and 17.
    assert ciede2000((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485)) == pytest.approx(
        2.0425, abs=1e-4
    )
    assert ciede2000((50.0, 2.5, 0.0), (73.0, 25.0, -18.0)) == pytest.approx(27.1492, abs=1e-4)


@pytest.mark.parametrize("vision", ["normal", "deuteranopia", "protanopia", "tritanopia"])
def test_every_two_statuses_look_different(vision: str) -> None:
    seen = {s: lab(seen_with(vision, linear(c))) for s, c in STATUS_COLOURS.items()}
    closest = min(
        (ciede2000(seen[one], seen[two]), one.value, two.value)
        for one, two in itertools.combinations(seen, 2)
    )
    assert closest[0] >= 18, closest


@pytest.mark.parametrize("status", list(CustodyStatus))
def test_badge_text_is_readable_on_every_status_colour(status: CustodyStatus) -> None:
    assert contrast_with_white(STATUS_COLOURS[status]) >= 4.5


def test_the_badges_use_the_charts_colours_and_an_icon_each() -> None:
    css = (STATIC / "app.css").read_text(encoding="utf-8")
    icons = set()
    for status, colour in STATUS_COLOURS.items():
        prop = "--" + status.value.replace("_", "-")
        assert re.search(rf"{prop}: {colour};", css), prop
        badge = rf"\.badge-{status.value} {{ background: var\({prop}\); "
        rule = re.search(badge + rf'--icon: url\("(icons/{status.value}\.svg)"\); }}', css)
        assert rule, status
        icon = STATIC / rule.group(1)
        assert icon.read_text(encoding="utf-8").startswith("<svg ")
        icons.add(icon.read_bytes())
    assert len(icons) == len(CustodyStatus)  # six different drawings
