"""The gait panel: the walk's figures in a table (cadence, steps, step and stride time,
stance and swing share, double support and step length of each foot, their symmetry,
which seconds and which person were analysed), the reason in words when nothing could be
measured, and the knee and hip angle of every stride on 0-100 % of the gait cycle (thin
lines per stride, the mean thick with a band of one SD, left and right in their colours,
a dashed line at each foot's mean toe off).

Only showing: every number is the GaitUpdated event's summary or result
(core/movement/gait.py); nothing here is computed from landmarks.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from posture_monitor.gui.gait_timeline import FOOT_COLOURS

FEET = ("left", "right")
JOINTS = (("knee_flex", "Knee flexion"), ("hip_flex", "Hip flexion"))
HINT_STYLE = "color:#7f8c8d"
WITHHELD_STYLE = "color:#e67e22;font-weight:bold"
WAITING = ("Waiting for a walk: film from the side, the walker crossing the whole view; "
           "the figures come about every second.")
ROW_PX = 22
# The per-foot rows: title, summary key, decimals, the symmetry measure beside it.
FOOT_ROWS = (("Step time (s)", "step_time_s", 2, "step_time_s"),
             ("Stride time (s)", "stride_time_s", 2, "stride_time_s"),
             ("Stance (% of stride)", "stance_pct", 1, "stance_s"),
             ("Swing (% of stride)", "swing_pct", 1, "swing_s"),
             ("Step length (leg lengths)", "step_length_leg", 2, "step_length_leg"),
             ("Step length (m)", "step_length_m", 2, None))
HEADERS = ("", "Left", "Right", "Symmetry ratio (SI)")


def mean_sd(stats: dict | None, decimals: int) -> str:
    """{"mean", "sd", "n"} as "0.52 ± 0.03" (no SD from one value), "-" when empty."""
    if not stats or stats.get("mean") is None:
        return "-"
    text = f"{stats['mean']:.{decimals}f}"
    if stats.get("sd") is not None:
        text += f" ± {stats['sd']:.{decimals}f}"
    return text


def symmetry_text(sym: dict | None) -> str:
    """The min/max ratio first (100 % = even), the symmetry index in brackets (0 %)."""
    if not sym or sym.get("ratio_pct") is None:
        return "-"
    si = sym.get("si_pct")
    return f"{sym['ratio_pct']:.0f} %" + (f" ({si:.0f} %)" if si is not None else "")


def withheld_text(reason: str) -> str:
    """The summary's `withheld` ("code: words") in words."""
    code, _, words = reason.partition(": ")
    return f"Nothing measured ({code.replace('_', ' ')}): {words}" if words else \
        f"Nothing measured: {code.replace('_', ' ')}"


def passes_text(summary: dict) -> str:
    passes = summary.get("passes") or []
    if not passes:
        return "none (no steady walking pass)"
    return "; ".join(f"{p['from_s']:.1f}-{p['to_s']:.1f} s, {p['direction'].replace('_', ' ')}"
                     for p in passes)


def person_text(person: dict | None) -> str:
    if not person or person.get("analysed") is None:
        return "nobody seen"
    seen = person.get("people_seen") or []
    me = next((p for p in seen if p.get("id") == person["analysed"]), {})
    travel = me.get("hip_travel_frame_widths")
    text = f"no. {person['analysed']} of {len(seen)} seen"
    if travel is not None:
        text += f": hips crossed {travel:.2f} of the frame, the most"
    return text


def _counts(per_joint: list[int]) -> str:
    """A foot's stride curves: one number, or knee/hip where a joint lacks some."""
    if len(set(per_joint)) == 1:
        return str(per_joint[0])
    return "/".join(map(str, per_joint)) + " (knee/hip)"


class GaitPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary: dict | None = None
        self.title = QLabel("Gait · side view", objectName="gait_title")
        self.title.setStyleSheet("font-weight:bold;font-size:16px")
        self.headline = QLabel("", objectName="gait_headline")
        self.headline.setStyleSheet("font-weight:bold;font-size:20px")
        self.status = QLabel(WAITING, objectName="gait_status", wordWrap=True)
        self.status.setStyleSheet(HINT_STYLE)
        self.table = QTableWidget(0, len(HEADERS), objectName="gait_table")
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.verticalHeader().setDefaultSectionSize(ROW_PX)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        for col in range(1, len(HEADERS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Stretch)
        self.table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.notes = QLabel("", objectName="gait_notes", wordWrap=True)
        self.notes.setStyleSheet(HINT_STYLE + ";font-size:11px")
        self.curves_key = QLabel("", objectName="gait_curves_key", wordWrap=True)

        self.plots = pg.GraphicsLayoutWidget()
        self.curve_plots: dict[str, pg.PlotItem] = {}
        for col, (joint, _) in enumerate(JOINTS):
            plot = self.plots.addPlot(row=0, col=col)
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            plot.setMenuEnabled(False)
            plot.setLabel("bottom", "% of gait cycle")
            plot.setXRange(0, 100, padding=0.02)
            self.curve_plots[joint] = plot
        # what is drawn, per joint and foot (tests read these)
        self.stride_lines: dict[tuple[str, str], list[pg.PlotDataItem]] = {}
        self.mean_lines: dict[tuple[str, str], pg.PlotDataItem] = {}

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.headline)
        layout.addWidget(self.status)
        layout.addWidget(self.table)
        layout.addWidget(self.notes)
        layout.addWidget(self.curves_key)
        layout.addWidget(self.plots, 1)
        self.clear()

    # --- what happened ---------------------------------------------------------------
    def clear(self) -> None:
        """A new analysis: nothing measured yet."""
        self.summary = None
        self.headline.setText("No steps yet")
        self.status.setText(WAITING)
        self.status.setStyleSheet(HINT_STYLE)
        self._fill_table({})
        self.notes.setText("")
        self._draw_curves(None, {})

    def show_update(self, t: float | None, result, summary: dict) -> None:
        """A GaitUpdated event: the walk so far (t = stream time) or the final one."""
        self.summary = summary
        steps = summary.get("steps") or 0
        cadence = summary.get("cadence_steps_per_min")
        self.headline.setText(f"{steps} step{'s' if steps != 1 else ''}" + (
            f" · {cadence:.0f} steps/min" if cadence is not None else ""))
        when = "the whole walk" if t is None else f"the walk up to {t:.1f} s"
        if summary.get("withheld"):
            # the final word stands out; on the way, it is what the walk lacks so far
            self.status.setText(withheld_text(summary["withheld"])
                                + ("" if t is None else f" (up to {t:.1f} s)"))
            self.status.setStyleSheet(WITHHELD_STYLE if t is None else HINT_STYLE)
        else:
            self.status.setText(f"Analysed: {when}" + (" (final)." if t is None else
                                                        "; updated as the walk goes on."))
            self.status.setStyleSheet(HINT_STYLE)
        self._fill_table(summary)
        defs = summary.get("symmetry_definitions") or {}
        notes = []
        if defs:
            notes.append(f"Symmetry ratio: {defs.get('ratio_pct', '')}. SI: "
                         f"{defs.get('si_pct', '')}.")
        if summary.get("cadence_definition"):
            notes.append(f"Cadence: {summary['cadence_definition']}.")
        self.notes.setText(" ".join(notes))
        self._draw_curves(result, summary)

    # --- the table ---------------------------------------------------------------------
    def _fill_table(self, s: dict) -> None:
        rows: list[tuple[str, list[str]]] = []
        cadence = s.get("cadence_steps_per_min")
        rows.append(("Cadence", [f"{cadence:.0f} steps/min" if cadence is not None else "-"]))
        rows.append(("Steps (heel strikes)", [str(s.get("steps", 0) or 0)]))
        strides = s.get("strides") or {}
        rows.append(("Strides", [str(strides.get(f, 0)) for f in FEET] + [""]))
        sym = s.get("symmetry") or {}
        for title, key, decimals, sym_key in FOOT_ROWS:
            if key == "step_length_m" and s.get("height_cm") is None:
                continue  # metres only with the walker's height
            per_foot = s.get(key) or {}
            rows.append((title, [mean_sd(per_foot.get(f), decimals) for f in FEET]
                         + [symmetry_text(sym.get(sym_key)) if sym_key else ""]))
        rows.append(("Double support (% of stride)",
                     [mean_sd(s.get("double_support_pct"), 1)]))
        rows.append(("Seconds analysed", [passes_text(s) if s else "-"]))
        rows.append(("Person analysed", [person_text(s.get("person")) if s else "-"]))
        t = self.table
        t.clearSpans()
        t.setRowCount(len(rows))
        for r, (title, cells) in enumerate(rows):
            head = QTableWidgetItem(title)
            head.setForeground(QColor("#555"))
            t.setItem(r, 0, head)
            for c in range(1, len(HEADERS)):
                text = cells[c - 1] if c - 1 < len(cells) else ""
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter if len(cells) > 1
                                      else Qt.AlignmentFlag.AlignLeft
                                      | Qt.AlignmentFlag.AlignVCenter)
                t.setItem(r, c, item)
            if len(cells) == 1:
                t.setSpan(r, 1, 1, len(HEADERS) - 1)
                t.item(r, 1).setToolTip(cells[0])
        t.setFixedHeight(ROW_PX * len(rows) + t.horizontalHeader().height() + 4)

    def cell(self, title: str, column: int = 1) -> str:
        """The text of a row's cell (tests): column 1 left (or the single value)."""
        for r in range(self.table.rowCount()):
            if self.table.item(r, 0).text() == title:
                item = self.table.item(r, column)
                return item.text() if item is not None else ""
        raise KeyError(title)

    # --- the curves ----------------------------------------------------------------------
    def _draw_curves(self, result, summary: dict) -> None:
        curves = getattr(result, "curves", None) or {}
        stats = summary.get("curves") or {}
        stance = summary.get("stance_pct") or {}
        self.stride_lines, self.mean_lines = {}, {}
        counts = {}
        for joint, words in JOINTS:
            plot = self.curve_plots[joint]
            plot.clear()
            plot.setTitle(f"{words} (deg)", size="9pt")
            for foot in FEET:
                colour = QColor(FOOT_COLOURS[foot])
                thin = QColor(colour)
                thin.setAlpha(110)
                strides = (curves.get(joint) or {}).get(foot) or []
                self.stride_lines[(joint, foot)] = [
                    plot.plot(np.linspace(0, 100, len(c)), np.asarray(c, dtype=float),
                              pen=pg.mkPen(thin, width=1)) for c in strides]
                counts.setdefault(foot, []).append(len(strides))
                st = stats.get(f"{joint}_deg", {}).get(foot) or {}
                if st.get("mean") is None:
                    continue
                mean = np.asarray(st["mean"], dtype=float)
                x = np.linspace(0, 100, len(mean))
                if st.get("sd") is not None:
                    sd = np.asarray(st["sd"], dtype=float)
                    band = QColor(colour)
                    band.setAlpha(45)
                    lo = pg.PlotDataItem(x, mean - sd, pen=pg.mkPen(None))
                    hi = pg.PlotDataItem(x, mean + sd, pen=pg.mkPen(None))
                    plot.addItem(pg.FillBetweenItem(lo, hi, brush=band))
                self.mean_lines[(joint, foot)] = plot.plot(x, mean,
                                                           pen=pg.mkPen(colour, width=3))
                toe_off = (stance.get(foot) or {}).get("mean")
                if toe_off is not None:
                    plot.addItem(pg.InfiniteLine(toe_off, angle=90, movable=False, pen=pg.mkPen(
                        colour, width=1, style=Qt.PenStyle.DashLine)))
            plot.setXRange(0, 100, padding=0.02)
        feet = " ".join(f"<span style='color:{FOOT_COLOURS[f]}'>■ {f} {_counts(counts[f])}"
                        "</span>" for f in FEET)
        self.curves_key.setText(f"<b>Strides</b> {feet} · each stride thin, the mean thick "
                                "in a band of ± 1 SD, dashed: the mean toe off")

    def stride_count(self, joint: str, foot: str) -> int:
        """Stride curves drawn of `joint` ("knee_flex", "hip_flex") for `foot` (tests)."""
        return len(self.stride_lines.get((joint, foot), []))
