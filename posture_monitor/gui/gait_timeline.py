"""The gait timeline under the video: the heel strikes and toe offs of each foot on the
stream's time axis (a lane per foot, left and right in their colours; a heel strike a
triangle pointing down, the foot landing, a toe off one pointing up), the seconds the
analysis used shaded, and a line at the frame on screen.

Only showing: the events and spans are the GaitUpdated event's (core/movement/gait.py).
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

FOOT_COLOURS = {"left": "#2980b9", "right": "#e67e22"}  # as the exercise panel's sides
LANES = {"left": 1.0, "right": 0.0}
SYMBOLS = {"heel_strike": "t", "toe_off": "t1"}  # pyqtgraph: t points down, t1 up
KIND_WORDS = {"heel_strike": "▼ heel strike", "toe_off": "▲ toe off"}
HEIGHT_PX = 120
MIN_SPAN_S = 5.0  # a camera's axis shows at least this much until the walk is longer


def key_html() -> str:
    feet = " ".join(f"<span style='color:{c}'>■ {f}</span>" for f, c in FOOT_COLOURS.items())
    return f"Gait events: {feet} · {KIND_WORDS['heel_strike']} · {KIND_WORDS['toe_off']}"


class GaitTimeline(pg.PlotWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("gait_timeline")
        self.setFixedHeight(HEIGHT_PX)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # only drawn on: keys stay the window's
        plot = self.getPlotItem()
        plot.setTitle(key_html(), size="9pt")
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.setMenuEnabled(False)
        plot.showGrid(x=True, y=False, alpha=0.2)
        plot.setLabel("bottom", "s")
        plot.getAxis("left").setTicks([[(y, foot) for foot, y in LANES.items()]])
        plot.setYRange(-0.6, 1.6, padding=0)
        self.duration_s: float | None = None
        self._spans: list[pg.LinearRegionItem] = []
        self.markers: dict[tuple[str, str], pg.ScatterPlotItem] = {}
        for kind, symbol in SYMBOLS.items():
            for foot, colour in FOOT_COLOURS.items():
                brush = colour if kind == "heel_strike" else None
                item = pg.ScatterPlotItem(symbol=symbol, size=13, pen=pg.mkPen(colour, width=2),
                                          brush=brush or pg.mkBrush(None))
                plot.addItem(item)
                self.markers[(kind, foot)] = item
        self.now = pg.InfiniteLine(0.0, angle=90, movable=False,
                                   pen=pg.mkPen("#c0392b", width=1.5))
        plot.addItem(self.now)
        self._last_t = 0.0
        self.set_duration(None)

    def set_duration(self, seconds: float | None) -> None:
        """The length of a video file (its axis then spans it all); None for a camera."""
        self.duration_s = seconds if seconds and seconds > 0 else None
        self._fit()

    def clear_events(self) -> None:
        for item in self.markers.values():
            item.setData([], [])
        self.show_spans([])

    def show_events(self, events) -> None:
        """Every GaitEvent in its lane (kind, foot, time_s)."""
        for (kind, foot), item in self.markers.items():
            x = [e.time_s for e in events if e.kind == kind and e.foot == foot]
            item.setData(x, [LANES[foot]] * len(x))
        self._fit()

    def show_spans(self, spans: list[list[float]]) -> None:
        """The seconds analysed (the steady walking passes), shaded."""
        plot = self.getPlotItem()
        for region in self._spans:
            plot.removeItem(region)
        self._spans = []
        for start, end in spans:
            region = pg.LinearRegionItem((start, end), movable=False,
                                         brush=QColor(39, 174, 96, 40),
                                         pen=pg.mkPen(None))
            region.setZValue(-10)
            plot.addItem(region)
            self._spans.append(region)

    def set_now(self, t: float) -> None:
        self.now.setValue(t)
        if self.duration_s is None and t > self._last_t:
            self._last_t = t
            self._fit()

    def marker_count(self, kind: str, foot: str | None = None) -> int:
        """Markers drawn of `kind` ("heel_strike", "toe_off"), of one foot or both."""
        return sum(len(item.getData()[0]) for (k, f), item in self.markers.items()
                   if k == kind and foot in (None, f))

    def _fit(self) -> None:
        if self.duration_s is not None:
            self.setXRange(0.0, self.duration_s, padding=0.01)
        else:
            end = max(MIN_SPAN_S, self._last_t)
            self.setXRange(max(0.0, end - 60.0), end, padding=0.01)
