"""Live scrolling plots (pyqtgraph): imbalance scores and the key measures of the current
view (side: CVA and torso; front: head forward, head pitch and tilts) over the last N s.

Preallocated numpy ring buffers and `setData`, downsampling and clip-to-view, as the
pyqtgraph examples recommend for live data; the x axis is seconds before now.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from posture_monitor.core.classify.labels import TRUNK_FLEXION_DEG
from posture_monitor.core.measure.definitions import FRONTAL_VIEWS, SHORT_NAMES, SIDE_VIEWS

CAPACITY = 600 * 30  # 10 minutes at 30 points/s: the longest window the settings allow
SCORE_SERIES = (("score_head_neck", "head-neck", "#e67e22"), ("score_shoulders", "shoulders",
                "#8e44ad"), ("score_trunk", "trunk", "#2980b9"),
                ("score_overall", "overall", "#c0392b"))
# The key measures of each view: only the plot of the view in front of the camera is shown,
# so a desk webcam facing the person does not get empty side-view curves.
SIDE_SERIES = (("cva_deg", "#27ae60"), ("torso_incl_deg", "#2980b9"))
FRONT_SERIES = (("head_fwd_cm", "#c0392b"), ("head_pitch_deg", "#e67e22"),
                ("shoulder_tilt_deg", "#8e44ad"), ("head_tilt_deg", "#16a085"))


class RingBuffer:
    """Times and several named series; NaN where a value was withheld (a gap in the line)."""

    def __init__(self, names: list[str], capacity: int = CAPACITY) -> None:
        self.t = np.full(capacity, np.nan)
        self.values = {n: np.full(capacity, np.nan) for n in names}
        self.capacity = capacity
        self.size = 0
        self._head = 0

    def append(self, t: float, row: dict[str, float | None]) -> None:
        i = self._head
        self.t[i] = t
        for name, arr in self.values.items():
            v = row.get(name)
            arr[i] = np.nan if v is None else v
        self._head = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def ordered(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        idx = (np.arange(self.size) + self._head - self.size) % self.capacity
        return self.t[idx], self.values[name][idx]

    def clear(self) -> None:
        self.size = self._head = 0


class LivePlots(pg.GraphicsLayoutWidget):
    def __init__(self, window_s: int = 60, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window_s = window_s
        names = [s[0] for s in SCORE_SERIES] + [s[0] for s in SIDE_SERIES + FRONT_SERIES]
        self.buffer = RingBuffer(names)
        self.scores = self.addPlot(row=0, col=0, title="Imbalance scores (0-100)")
        self.angles = self.addPlot(row=1, col=0, title="Side view: angles (deg)")
        self.front = pg.PlotItem(title="Front view: head forward (cm), angles (deg)")
        self.view_plot = self.angles  # the key-measures plot on show: side until a front view
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._plot_curves: dict[pg.PlotItem, list[str]] = {}
        for plot, series in ((self.scores, SCORE_SERIES),
                             (self.angles, [(c, SHORT_NAMES[c], k) for c, k in SIDE_SERIES]),
                             (self.front, [(c, SHORT_NAMES[c], k) for c, k in FRONT_SERIES])):
            # a dark backing, so reference lines do not run through the legend text
            plot.addLegend(offset=(5, 5), labelTextSize="8pt", brush=pg.mkBrush(0, 0, 0, 220))
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setClipToView(True)
            plot.setDownsampling(mode="peak")
            plot.setLabel("bottom", "seconds before now")
            self._plot_curves[plot] = [key for key, _, _ in series]
            for key, label, colour in series:
                self.curves[key] = plot.plot(name=label, pen=pg.mkPen(colour, width=2),
                                             connect="finite")
        self.scores.setYRange(0, 100)
        # Reference bands: the score half-way line, and the RULA trunk band (+-20 deg)
        # inside which the torso line reads as neither flexion nor extension.
        dashed = pg.mkPen("#999", style=Qt.PenStyle.DashLine)
        self.scores.addItem(pg.InfiniteLine(50, angle=0, pen=dashed))
        band = pg.LinearRegionItem((-TRUNK_FLEXION_DEG, TRUNK_FLEXION_DEG),
                                   orientation="horizontal", movable=False,
                                   brush=pg.mkBrush(41, 128, 185, 30))
        self.angles.addItem(band)
        self.front.addItem(pg.InfiniteLine(0, angle=0, pen=dashed))  # level / head over trunk
        self.set_window(window_s)

    def set_view(self, view: str) -> None:
        """Show the key measures of a side or front view; other views keep the last."""
        plot = (self.front if view in FRONTAL_VIEWS else self.angles if view in SIDE_VIEWS
                else self.view_plot)
        if plot is self.view_plot:
            return
        self.removeItem(self.view_plot)
        self.addItem(plot, row=1, col=0)
        self.view_plot = plot

    def set_window(self, seconds: int) -> None:
        self.window_s = seconds
        for plot in (self.scores, self.angles, self.front):
            plot.setXRange(-seconds, 0, padding=0)

    def append(self, t: float, row: dict[str, float | None]) -> None:
        self.buffer.append(t, row)

    def refresh(self, now: float) -> None:
        for plot in (self.scores, self.view_plot):  # the hidden plot catches up when shown
            for key in self._plot_curves[plot]:
                t, v = self.buffer.ordered(key)
                keep = t >= now - self.window_s
                self.curves[key].setData(t[keep] - now, v[keep])

    def reset_data(self) -> None:
        # Not `clear`: GraphicsLayoutWidget binds `clear` per instance to its layout's
        # clear(), which would remove the plots themselves.
        self.buffer.clear()
