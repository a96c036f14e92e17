"""The exercise panel: the repetition count in large figures, the last repetition in
plain words, the last form cue, a bar chart of each repetition's range of motion (left
and right side by side), and live plots of the counted angle and its angular velocity.

Only showing: every number comes from the core (the RepCompleted row, the tracker's
counted value, kinematics' velocity). The exercise controller tells the panel what
happened; the live curves are redrawn on the window's 10 Hz plot timer.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from posture_monitor.gui.plots import RingBuffer

SIDE_COLOURS = {"left": "#2980b9", "right": "#e67e22", "range": "#16a085"}
BAR_WIDTH = 0.38  # of one repetition's slot: left and right side by side, a gap between
COUNT_PX = 84  # the count, readable from where the exercise is done
MIN_X_SPAN_S = 10.0  # the live plots show at least this much until the window fills
CUE_STYLE = "color:#e67e22;font-weight:bold;font-size:15px"
HINT_STYLE = "color:#7f8c8d"
NO_CUE = "Form cues: none so far."


def _brush(colour: str, complete: bool) -> QBrush:
    # An incomplete repetition is hatched grey: it reads as "did not count" in print too.
    if complete:
        return QBrush(QColor(colour))
    return QBrush(QColor("#95a5a6"), Qt.BrushStyle.BDiagPattern)


def _number(value: object, unit: str, decimals: int = 0) -> str:
    if not isinstance(value, (int, float)) or value != value:  # None or NaN
        return "-"
    return f"{value:.{decimals}f}°" if unit == "deg" else f"{value:.2f}"


def rep_text(row: dict, decimals: int = 0, to_peak: str = "to the peak",
             from_peak: str = "back") -> str:
    """A repetition's row in plain words: range, duration with its phases, left/right
    symmetry (naming which one: the min/max ratio, 100 % = even) and its form faults."""
    unit = row.get("unit", "deg")
    head = f"Rep {row['rep']}" + ("" if row.get("complete") else
                                  f" incomplete ({str(row.get('reason', '')).replace('_', ' ')})")
    parts = [f"{head}: range {_number(row.get('range'), unit, decimals)}"]
    duration = row.get("duration_s")
    if isinstance(duration, (int, float)):
        parts[0] += (f" in {duration:.1f} s ({to_peak} {row.get('to_peak_s', 0):.1f} s, "
                     f"{from_peak} {row.get('from_peak_s', 0):.1f} s)")
    sides = {side: row.get(f"{side}_range") for side in ("left", "right")}
    if any(v is not None for v in sides.values()):
        # The bars' unit: ranges of the preset's symmetry joint (degrees in every preset).
        text = ", ".join(f"{side} {_number(v, 'deg', decimals)}" if v is not None else
                         f"{side} not in view" for side, v in sides.items())
        sym = row.get("range_symmetry_pct")
        if isinstance(sym, (int, float)) and sym == sym:
            text += f": symmetry {sym:.0f} % (min/max)"
        parts.append(text)
    faults = [f.replace("_", " ").replace(":", ", ") for f in
              str(row.get("faults") or "").split(";") if f]
    if faults:
        parts.append("form: " + "; ".join(faults))
    return ". ".join(parts) + "."


class ExercisePanel(QWidget):
    def __init__(self, window_s: int = 60, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window_s = window_s
        self.decimals = 0
        self.rows: list[dict] = []
        self._phases = ("to the peak", "back")
        self._heading = ""
        self.title = QLabel(objectName="exercise_title", wordWrap=True)
        self.title.setStyleSheet("font-weight:bold;font-size:16px")
        self.hint = QLabel(objectName="exercise_hint", wordWrap=True)
        self.hint.setStyleSheet(HINT_STYLE)
        self.seen = QLabel("", objectName="exercise_seen", wordWrap=True)
        self.count = QLabel("0", objectName="rep_count",
                            alignment=Qt.AlignmentFlag.AlignCenter)
        font = QFont()
        font.setPixelSize(COUNT_PX)
        font.setBold(True)
        self.count.setFont(font)
        self.count.setMinimumWidth(int(COUNT_PX * 1.3))
        self.caption = QLabel("complete repetitions", objectName="rep_caption")
        self.incomplete = QLabel("", objectName="rep_incomplete")
        self.incomplete.setStyleSheet(HINT_STYLE)
        self.signal = QLabel("", objectName="rep_signal", wordWrap=True)
        self.signal.setStyleSheet(HINT_STYLE)
        self.last_rep = QLabel("No repetition yet.", objectName="last_rep", wordWrap=True)
        self.cue = QLabel(NO_CUE, objectName="last_cue", wordWrap=True)
        self.cue.setStyleSheet(HINT_STYLE)

        counts = QGridLayout()
        counts.addWidget(self.count, 0, 0, 3, 1)
        counts.addWidget(self.caption, 0, 1)
        counts.addWidget(self.incomplete, 1, 1)
        counts.addWidget(self.signal, 2, 1)
        counts.setColumnStretch(1, 1)

        self.plots = pg.GraphicsLayoutWidget()
        self.bars_plot = self.plots.addPlot(row=0, col=0, title="Range of motion per "
                                            "repetition")
        self.angle_plot = self.plots.addPlot(row=1, col=0)
        self.velocity_plot = self.plots.addPlot(row=2, col=0)
        self.velocity_plot.setXLink(self.angle_plot)
        # The colours are named in the title: a legend inside the plot covers the bars.
        self.bars: dict[str, pg.BarGraphItem] = {}
        for side in ("left", "right", "range"):  # "range": the counted one, where no sides
            item = pg.BarGraphItem(x=[], height=[], width=BAR_WIDTH,
                                   brush=SIDE_COLOURS[side])
            self.bars_plot.addItem(item)
            self.bars[side] = item
        self.bars_plot.setLabel("bottom", "repetition")
        self.bars_plot.getAxis("bottom").setTickSpacing(1, 1)
        self.bars_plot.setLimits(yMin=0)
        for plot in (self.bars_plot, self.angle_plot, self.velocity_plot):
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
        self.angle_plot.setClipToView(True)
        self.velocity_plot.setClipToView(True)
        self.angle_curve = self.angle_plot.plot(pen=pg.mkPen("#27ae60", width=2),
                                                connect="finite")
        self.velocity_curve = self.velocity_plot.plot(pen=pg.mkPen("#8e44ad", width=2),
                                                      connect="finite")
        self.velocity_plot.addItem(pg.InfiniteLine(0, angle=0, pen=pg.mkPen(
            "#999", style=Qt.PenStyle.DashLine)))
        self.velocity_plot.setLabel("bottom", "seconds before now")
        self.buffer = RingBuffer(["value", "velocity"])

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.hint)
        layout.addWidget(self.seen)
        layout.addLayout(counts)
        layout.addWidget(self.last_rep)
        layout.addWidget(self.cue)
        layout.addWidget(self.plots, 1)

    # --- what happened -------------------------------------------------------------
    def begin(self, title: str, side: str, view: str, signal: str, bar_unit: str,
              phases: tuple[str, str] = ("to the peak", "back")) -> None:
        """A new exercise: empty count, bars and curves. `signal` names what is counted,
        `bar_unit` the unit of the ranges in the bar chart."""
        sides = "both sides" if side == "both" else f"{side} side"
        self._heading = f"{title} · {sides}"
        self.title.setText(self._heading)
        self.hint.setText(f"Film from: {view}.")
        self.signal.setText(f"counting {signal}")
        self.seen.setText("")
        self._phases = phases
        key = " ".join(f"<span style='color:{SIDE_COLOURS[s]}'>■ {s}</span>"
                       for s in ("left", "right"))
        self.bars_plot.setTitle(f"Range of motion per repetition ({bar_unit}) {key}",
                                size="10pt")
        self.angle_plot.setTitle("Counted signal", size="10pt")
        self.velocity_plot.setTitle("Velocity", size="10pt")
        self.rows = []
        self.count.setText("0")
        self.incomplete.setText("")
        self.last_rep.setText("No repetition yet.")
        self.cue.setText(NO_CUE)
        self.cue.setStyleSheet(HINT_STYLE)
        self.buffer.clear()
        self.angle_curve.setData([], [])
        self.velocity_curve.setData([], [])
        self._draw_bars()

    def set_signal(self, name: str, unit: str) -> None:
        """The signal counted in the view on screen (a preset counts another one from
        the front than from the side)."""
        per_s = "deg/s" if unit == "deg" else f"{unit}/s"
        self.signal.setText(f"counting {name}")
        self.angle_plot.setTitle(f"{name[:1].upper()}{name[1:]} ({unit})", size="10pt")
        self.velocity_plot.setTitle(f"Angular velocity ({per_s})" if unit == "deg"
                                    else f"Velocity ({per_s})", size="10pt")

    def set_view(self, text: str) -> None:
        self.seen.setText(f"Seen now: {text}")

    def add_rep(self, row: dict, complete_count: int) -> None:
        self.rows.append(row)
        self.count.setText(str(complete_count))
        missed = len(self.rows) - complete_count
        self.incomplete.setText(f"{missed} incomplete" if missed else "")
        self.last_rep.setText(rep_text(row, self.decimals, *self._phases))
        self._draw_bars()

    def show_cue(self, text: str) -> None:
        self.cue.setText(text)
        self.cue.setStyleSheet(CUE_STYLE)

    def end(self, summary: dict | None) -> None:
        """The exercise stopped: the results stay on show until the next one."""
        self.title.setText(f"{self._heading} (stopped)")
        if summary is not None:
            self.count.setText(str(summary["reps"]))

    # --- drawing -------------------------------------------------------------------
    def _draw_bars(self) -> None:
        for side, item in self.bars.items():
            x, height, brushes = [], [], []
            for i, row in enumerate(self.rows, start=1):
                has_sides = any(row.get(f"{s}_range") is not None for s in ("left", "right"))
                if side == "range":
                    value, offset = (None if has_sides else row.get("range")), 0.0
                else:
                    value = row.get(f"{side}_range")
                    offset = (-0.5 if side == "left" else 0.5) * BAR_WIDTH
                if value is None:
                    continue  # no reading of that side: no bar rather than a zero one
                x.append(i + offset)
                height.append(float(value))
                brushes.append(_brush(SIDE_COLOURS[side], bool(row.get("complete"))))
            # One pen for all (pyqtgraph 0.14 fails on an empty list of pens).
            item.setOpts(x=x, height=height, width=BAR_WIDTH, brushes=brushes,
                         pen=pg.mkPen(SIDE_COLOURS[side]), pens=None)
        self.bars_plot.setXRange(0.4, max(3, len(self.rows)) + 0.6, padding=0)

    def bar_heights(self, side: str) -> list[float]:
        """The heights drawn for "left", "right" (or "range"), in repetition order."""
        return [float(h) for h in self.bars[side].opts["height"]]

    def append(self, t: float, value: float | None, velocity: float | None) -> None:
        self.buffer.append(t, {"value": value, "velocity": velocity})

    def set_window(self, seconds: int) -> None:
        self.window_s = seconds

    def refresh(self) -> None:
        """Redraw the live curves over the last `window_s` seconds of stream time."""
        if self.buffer.size == 0:
            return
        t, value = self.buffer.ordered("value")
        _, velocity = self.buffer.ordered("velocity")
        now = t[-1]
        keep = t >= now - self.window_s
        self.angle_curve.setData(t[keep] - now, value[keep])
        self.velocity_curve.setData(t[keep] - now, velocity[keep])
        span = min(float(self.window_s), max(MIN_X_SPAN_S, float(now - t[keep][0])))
        self.angle_plot.setXRange(-span, 0, padding=0)

    def curve_points(self) -> int:
        """How many finite points the angle curve holds (tests)."""
        _, y = self.angle_curve.getData()
        return 0 if y is None else int(np.isfinite(y).sum())
