"""SVG charts for pages and PDFs: geometry is computed here, templates only draw it."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.domain import StatusCounts
from monitor.presentation.wording import STATUS_COLOURS, STATUS_ORDER

BAR_HEIGHT = 22
BAR_GAP = 8
LABEL_WIDTH = 120
PLOT_WIDTH = 360
VALUE_WIDTH = 60


@dataclass(frozen=True)
class Bar:
    """One horizontal bar with its label and count."""

    label: str
    value: int
    colour: str
    y: int
    width: float


@dataclass(frozen=True)
class BarChart:
    """A horizontal bar chart drawn with SVG presentation attributes (CSP forbids style=)."""

    title: str
    bars: list[Bar]
    label_width: int = LABEL_WIDTH
    width: int = LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH

    @property
    def height(self) -> int:
        """Total height of the drawing."""
        return max(1, len(self.bars)) * (BAR_HEIGHT + BAR_GAP)

    @property
    def text_offset(self) -> int:
        """Baseline of a bar's label within the bar."""
        return BAR_HEIGHT - 6

    @property
    def bar_height(self) -> int:
        """Height of each bar."""
        return BAR_HEIGHT


def status_chart(counts: StatusCounts, title: str) -> BarChart:
    """Cases per custody status, most serious first, scaled to the largest count."""
    largest = max([counts.counts.get(s.value, 0) for s in STATUS_ORDER] + [1])
    bars = []
    for index, status in enumerate(STATUS_ORDER):
        value = counts.counts.get(status.value, 0)
        bars.append(
            Bar(
                label=status.label,
                value=value,
                colour=STATUS_COLOURS[status],
                y=index * (BAR_HEIGHT + BAR_GAP),
                width=round(PLOT_WIDTH * value / largest, 1),
            )
        )
    return BarChart(title=title, bars=bars)
