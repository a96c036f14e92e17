"""The history window's exercise view (issue 13): for the selected patient and exercise,
a table per visit, range of motion per visit with the smallest-real-change band and the
goal lines, the goals with how far the latest visit is from each, and a form to set one.
Thin: every number and every check comes from core/records (exercise_store,
exercise_progress), the same functions `posture-monitor goals` uses."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from posture_monitor.core.common.errors import UserError
from posture_monitor.core.movement.exercises import preset_names
from posture_monitor.core.movement.measures import measure_title, primary_columns, valid_measures
from posture_monitor.core.records import exercise_progress as xp
from posture_monitor.core.records import exercise_store as es

SYMMETRY = "range_symmetry_pct"


def _num(v: float | None, digits: int = 1) -> str:
    return "no reading" if v is None else f"{v:.{digits}f}"


class ExerciseHistoryWidget(QWidget):
    def __init__(self, store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.patient: str | None = None
        self.visits: list[dict] = []
        self.exercise = QComboBox(objectName="exercise")
        self.exercise.currentIndexChanged.connect(self.refresh)
        self.visit_table = QTableWidget(0, 5, objectName="visits")
        self.visit_table.setHorizontalHeaderLabels(
            ["Date", "Reps complete / incomplete", "Mean range", "Counted joint max L / R",
             "Range symmetry (min/max), %"])
        self.visit_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.plot = pg.PlotWidget(title="Range of motion per visit")
        self.plot.setLabel("bottom", "visit")
        self.note = QLabel(objectName="note", wordWrap=True)
        self.goal_table = QTableWidget(0, 3, objectName="goals")
        self.goal_table.setHorizontalHeaderLabels(["Id", "Goal", "Progress"])
        self.goal_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.goal_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.goal_table.setWordWrap(True)
        for table in (self.visit_table, self.goal_table):
            table.verticalHeader().setVisible(False)
            table.horizontalHeader().setSectionResizeMode(
                QHeaderView.ResizeMode.ResizeToContents)
            table.horizontalHeader().setStretchLastSection(True)
        self.measure = QComboBox(objectName="measure")
        self.direction = QComboBox(objectName="direction")
        for key, words in es.DIRECTIONS.items():
            self.direction.addItem(words, key)
        self.value = QLineEdit(objectName="value", placeholderText="e.g. 110")
        self.message = QLabel(objectName="message", wordWrap=True)
        form = QHBoxLayout()
        for w in (QLabel("Goal:"), self.measure, self.direction, self.value,
                  QPushButton("Set goal", clicked=self.set_goal, objectName="Set goal"),
                  QPushButton("Delete goal", clicked=self.delete_goal,
                              objectName="Delete goal")):
            form.addWidget(w)
        top = QHBoxLayout()
        top.addWidget(QLabel("Exercise"))
        top.addWidget(self.exercise, 1)
        left = QVBoxLayout()
        left.addLayout(top)
        left.addWidget(self.visit_table, 2)
        left.addWidget(self.goal_table, 1)
        left.addLayout(form)
        left.addWidget(self.message)
        right = QVBoxLayout()
        right.addWidget(self.plot, 1)
        right.addWidget(self.note)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 3)
        layout.addLayout(right, 2)

    def set_patient(self, patient: str | None) -> None:
        """Fill the exercise list: the patient's exercises first, then the others (a goal
        may come before the first session)."""
        self.patient = patient or None
        current = self.exercise.currentData()
        own = es.patient_presets(self.store, patient) if patient else []
        self.exercise.blockSignals(True)
        self.exercise.clear()
        for p in [*own, *(p for p in preset_names() if p not in own)]:
            self.exercise.addItem(p.replace("_", " "), p)
        i = self.exercise.findData(current)
        self.exercise.setCurrentIndex(i if i >= 0 and current in own else 0)
        self.exercise.blockSignals(False)
        self.refresh()

    @property
    def preset(self) -> str | None:
        return self.exercise.currentData()

    def refresh(self, *_) -> None:
        preset = self.preset
        self.visits = (es.exercise_sessions(self.store, self.patient, preset)
                       if self.patient and preset else [])
        self.goals = es.goals(self.store, self.patient, preset) if self.patient and preset \
            else []
        self._fill_visits()
        self._fill_goals()
        self._fill_measures()
        self._plot()

    def _fill_visits(self) -> None:
        unit = xp.latest_counted_unit(self.visits)
        self.visit_table.setRowCount(len(self.visits))
        ranges = xp.series(self.visits, "range", unit)
        symmetry = xp.series(self.visits, SYMMETRY)
        for row, v in enumerate(self.visits):
            counts = xp.visit_row(v)
            summary = v["exercise"].get("summary") or {}
            maxima = [summary.get(f"{c}_max") for c in
                      primary_columns(v["exercise"])]
            cells = [(v.get("started") or "unknown")[:16].replace("T", " "),
                     f"{counts['reps']} / {counts['incomplete']}",
                     f"{_num(ranges[row])} {counts['unit']}".rstrip(),
                     " / ".join(_num(m if isinstance(m, float) else None) for m in maxima)
                     or "no reading", _num(symmetry[row], 0)]
            for col, text in enumerate(cells):
                self.visit_table.setItem(row, col, QTableWidgetItem(text))

    def _fill_goals(self) -> None:
        self.goal_table.setRowCount(len(self.goals))
        for row, g in enumerate(self.goals):
            progress = xp.goal_status(g, self.visits)
            for col, text in enumerate((str(g["id"]), es.goal_text(g), progress.text)):
                self.goal_table.setItem(row, col, QTableWidgetItem(text))

    def _fill_measures(self) -> None:
        current = self.measure.currentData()
        stored = {k for v in self.visits for k in (v["exercise"].get("summary") or {})}
        self.measure.clear()
        if self.preset:
            for name in valid_measures(self.preset, stored):
                self.measure.addItem(measure_title(name), name)
        i = self.measure.findData(current)
        self.measure.setCurrentIndex(max(i, 0))

    def _plot(self) -> None:
        self.plot.clear()
        unit = xp.latest_counted_unit(self.visits) or "deg"
        values = xp.series(self.visits, "range", unit)
        y = np.array([np.nan if v is None else v for v in values], float)
        x = np.arange(1, len(y) + 1)
        ok = np.isfinite(y)
        self.plot.setLabel("left", f"range, {unit}")
        if ok.any():
            self.plot.plot(x[ok], y[ok], pen=pg.mkPen("#2980b9", width=2), symbol="o")
        rel = xp.measure_repeatability(self.visits, "range", unit)
        band = xp.band(values, rel)
        self.band = None
        if band.ok:  # a change inside the measurement noise must not look like progress
            self.band = pg.LinearRegionItem(
                (band.centre - band.half_width, band.centre + band.half_width),
                orientation="horizontal", movable=False, brush=pg.mkBrush(39, 174, 96, 50),
                pen=pg.mkPen(39, 174, 96, 90))
            self.plot.addItem(self.band)
        self.goal_lines = []
        for g in (g for g in self.goals if g["measure"] == "range"
                  and (g.get("unit") or unit) == unit):  # never on another unit's scale
            line = pg.InfiniteLine(g["value"], angle=0, movable=False,
                                   pen=pg.mkPen("#c0392b", width=1, style=Qt.PenStyle.DashLine),
                                   label=f"goal {es.DIRECTIONS[g['direction']]} "
                                   f"{g['value']:g}", labelOpts={"color": "#c0392b",
                                                                 "position": 0.85})
            self.plot.addItem(line)
            self.goal_lines.append(line)
        parts = [xp.change_text(values, band, unit) + "."]
        if band.ok:
            parts.append(f"Band: the first visit +- {band.half_width:.1f} {unit}, the "
                         "smallest real change of a session mean.")
        elif band.reason:
            parts.append(f"Band: {band.reason}.")
        if rel.ok:
            parts.append(f"ICC(3,1) {rel.icc:.2f}, SEM {rel.sem:.1f} {unit}, MDC95 "
                         f"{rel.mdc95_rep:.1f} {unit} for one repetition and "
                         f"{rel.mdc95_mean:.1f} {unit} for a session mean of {rel.n_reps} "
                         f"({rel.n_sessions} sessions)"
                         f"{', rough: few repetitions' if rel.rough else ''}. Only "
                         "repetition-to-repetition noise is in it: set-up changes "
                         "between sessions are not.")
        self.note.setText(" ".join(parts))

    # -- goals --------------------------------------------------------------------------
    def set_goal(self) -> int | None:
        """The store's own checks (as on the command line); a refusal is shown, one line."""
        if not self.patient or not self.preset:
            self.message.setText("Choose a patient first.")
            return None
        try:
            gid = es.set_goal(self.store, self.patient, self.preset,
                              self.measure.currentData() or "", self.direction.currentData(),
                              self.value.text().strip())
        except UserError as exc:
            self.message.setText(str(exc))
            return None
        self.message.setText(f"Goal {gid} set.")
        self.value.clear()
        self.refresh()
        return gid

    def delete_goal(self, *_, ask: bool = True) -> None:
        rows = sorted({i.row() for i in self.goal_table.selectedIndexes()})
        if not rows:
            return
        g = self.goals[rows[0]]
        if ask and QMessageBox.question(
                self, "Delete goal", f"Delete the goal {es.goal_text(g)}?") != \
                QMessageBox.StandardButton.Yes:
            return
        es.delete_goal(self.store, g["id"])
        self.message.setText(f"Goal {g['id']} deleted.")
        self.refresh()
