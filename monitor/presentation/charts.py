"""SVG charts for pages and PDFs: geometry is computed here, templates only draw it.

A chart is laid out for paper (:data:`PRINT`, the default: 540 units across 150 mm) or for a
screen (:data:`SCREEN`, via :meth:`BarChart.on_screen`): a page scales the drawing down to the
width it has, so the screen layout is narrow enough that its 14-unit text is still 12 px or more
on a 320 px phone, where the chart gets about 250 px.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from monitor.domain import StatusCounts
from monitor.presentation.wording import STATUS_COLOURS, STATUS_LABELS, STATUS_ORDER


@dataclass(frozen=True)
class Layout:
    """Where the parts of a horizontal bar chart go, in SVG user units."""

    label_width: int
    plot_width: int
    value_width: int
    bar_height: int
    bar_gap: int
    font_size: int

    @property
    def width(self) -> int:
        """Total width of the drawing."""
        return self.label_width + self.plot_width + self.value_width


PRINT = Layout(
    label_width=120, plot_width=360, value_width=60, bar_height=22, bar_gap=8, font_size=13
)
# 276 units: a 320 px phone gives a chart about 250 px, so 14-unit text renders at 12.7 px.
SCREEN = Layout(
    label_width=104, plot_width=128, value_width=44, bar_height=20, bar_gap=10, font_size=14
)


@dataclass(frozen=True)
class Bar:
    """One horizontal bar with its label and count."""

    label: str
    value: int
    colour: str
    y: int
    width: float


@dataclass(frozen=True)
class Count:
    """One labelled count to draw as a bar."""

    label: str
    value: int
    colour: str


@dataclass(frozen=True)
class BarChart:
    """A horizontal bar chart drawn with SVG presentation attributes (CSP forbids style=)."""

    title: str
    counts: tuple[Count, ...]
    layout: Layout = PRINT

    def on_screen(self) -> BarChart:
        """The same chart laid out for a page on any screen, a phone's included."""
        return dataclasses.replace(self, layout=SCREEN)

    @property
    def bars(self) -> list[Bar]:
        """The bars, top to bottom, scaled to the largest count."""
        largest = max([c.value for c in self.counts] + [1])
        step = self.layout.bar_height + self.layout.bar_gap
        return [
            Bar(
                label=c.label,
                value=c.value,
                colour=c.colour,
                y=index * step,
                width=round(self.layout.plot_width * c.value / largest, 1),
            )
            for index, c in enumerate(self.counts)
        ]

    @property
    def width(self) -> int:
        """Total width of the drawing."""
        return self.layout.width

    @property
    def label_width(self) -> int:
        """Width of the label column, left of the bars."""
        return self.layout.label_width

    @property
    def height(self) -> int:
        """Total height of the drawing."""
        return max(1, len(self.counts)) * (self.layout.bar_height + self.layout.bar_gap)

    @property
    def text_offset(self) -> int:
        """Baseline of a bar's label within the bar."""
        cap_height = self.layout.font_size * 3 // 4
        return self.layout.bar_height - (self.layout.bar_height - cap_height) // 2

    @property
    def bar_height(self) -> int:
        """Height of each bar."""
        return self.layout.bar_height

    @property
    def font_size(self) -> int:
        """Size of the labels and counts."""
        return self.layout.font_size


def status_chart(counts: StatusCounts, title: str) -> BarChart:
    """Cases per custody status, most serious first, scaled to the largest count."""
    return BarChart(
        title=title,
        counts=tuple(
            Count(
                str(STATUS_LABELS[status]),
                counts.counts.get(status.value, 0),
                STATUS_COLOURS[status],
            )
            for status in STATUS_ORDER
        ),
    )
