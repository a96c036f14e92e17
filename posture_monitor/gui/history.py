"""Patients and history (the physiotherapist in clinic): sessions per patient, progress
across visits with the smallest real change drawn in, exercise progress and goals
(exercise_history.py), review of one session on a timeline, and two sessions side by
side. Reads the SQLite store; draws nothing itself that the core did not compute."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QSlider,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from posture_monitor.core.measure.definitions import (
    METRIC_BY_COLUMN,
    SHORT_NAMES,
    SUMMARY_COLUMNS,
)
from posture_monitor.core.records import store_io
from posture_monitor.core.records.report import MDC_CVA_DEG
from posture_monitor.core.records.store import csv_changed
from posture_monitor.gui.exercise_history import ExerciseHistoryWidget

# The summary's metrics (the metric table's `summary` flag) under their short names.
COLUMNS = (("started", "Date"), ("duration_s", "Duration"),
           *((c, SHORT_NAMES[c]) for c in SUMMARY_COLUMNS), ("good_share", "Good posture"))
REVIEW_SERIES = tuple((c, SHORT_NAMES[c], colour) for c, colour in (
    ("cva_deg", "#27ae60"), ("torso_incl_deg", "#2980b9"), ("shoulder_tilt_deg", "#8e44ad"),
    ("head_tilt_deg", "#e67e22")))


def _cell(key: str, session: dict) -> str:
    if key == "started":  # None when an older version stored no usable time
        started = session.get("started")
        return started[:16].replace("T", " ") if isinstance(started, str) else "unknown"
    v = (session.get("summary") or {}).get(key)
    if v is None:
        return "no reading"
    if key == "duration_s":
        return f"{v / 60:.1f} min"
    if key == "good_share":
        return f"{100 * v:.0f} %"
    metric = METRIC_BY_COLUMN[key]
    if metric.unit == "ratio":  # of the shoulder width: the column's name says so
        return f"{v:.2f}"
    return f"{v:.1f}{metric.unit_text}"


def _skeleton_replay(session: dict):
    """Per-frame poses from the session's CSV landmark columns (recordings from the window
    and `analyze --landmarks` have them), the frame size, and the recorded video if the
    user chose to keep one. None when the CSV or its landmarks are not there."""
    import csv
    import json
    from pathlib import Path

    from posture_monitor.core.records.recorder import pose_from_row

    if not isinstance(session.get("csv_path"), str) or not session["csv_path"]:
        return None  # a session that never got its file (or an older version's)
    path = Path(session["csv_path"])
    sidecar = path.with_suffix(".json")
    if not path.is_file() or not sidecar.is_file():
        return None
    if csv_changed(session):  # replaced since it was stored: its skeletons are not these
        return None
    poses = {}
    try:  # files on disk may have changed since: a bad one means angles only, no crash
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        size = (int(meta["source"]["width"]), int(meta["source"]["height"]))
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            if "nose_x" not in (reader.fieldnames or []):
                return None
            for row in reader:
                if row.get("pose_detected") != "1":
                    continue
                poses[int(row["frame"])] = pose_from_row(row)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, OverflowError,
            RecursionError, csv.Error):
        return None
    video = path.with_suffix(".mp4")
    return poses, size, (video if video.is_file() else None)


class ReviewWidget(QWidget):
    """One session on a timeline: the skeleton of the frame under the cursor (on the
    recorded video when there is one), its angles, and a scrubber with the values."""

    def __init__(self, store, session_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = store.session(session_id)
        self.samples = store.samples(session_id)
        t = np.asarray(self.samples["time_s"], float)
        self.t = t
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Session {session_id}: {_cell('started', self.session)}, "
                                f"{_cell('duration_s', self.session)}"))
        self.replay = _skeleton_replay(self.session)
        self.shown_frame: int | None = None  # the frame whose skeleton is on screen
        self.picture = QLabel(objectName="skeleton", alignment=Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumHeight(160)
        if self.replay is None:
            changed = csv_changed(self.session)  # say so: never replay different data
            self.picture.setText(f"{changed}: angles only, from the database." if changed
                                 else "No landmarks stored for this session: angles only.")
        layout.addWidget(self.picture, 3)
        self.plot = pg.PlotWidget(title="Angles (deg)")
        self.plot.addLegend(offset=(5, 5))
        self.plot.setLabel("bottom", "seconds")
        for key, label, colour in REVIEW_SERIES:
            y = np.asarray(self.samples.get(key, np.full(len(t), np.nan)), float)
            self.plot.plot(t, y, name=label, pen=pg.mkPen(colour, width=2), connect="finite")
        self.cursor = pg.InfiniteLine(pos=t[0] if len(t) else 0, angle=90,
                                      pen=pg.mkPen("#ddd"))
        self.plot.addItem(self.cursor)
        self.plot.setMinimumHeight(160)
        layout.addWidget(self.plot, 2)
        self.scrubber = QSlider(Qt.Orientation.Horizontal, objectName="scrubber")
        self.scrubber.setRange(0, max(len(t) - 1, 0))
        self.scrubber.valueChanged.connect(self.show_frame)
        layout.addWidget(self.scrubber)
        self.values = QLabel(objectName="values")
        layout.addWidget(self.values)
        self.show_frame(0)

    def show_frame(self, i: int) -> None:
        if not len(self.t):
            self.values.setText("no samples")
            return
        self.cursor.setValue(self.t[i])
        self._draw_skeleton(int(self.samples["frame"][i]))
        parts = [f"t {self.t[i]:.1f} s", f"view {self.samples['view'][i]}"]
        for key, label, _ in REVIEW_SERIES:
            v = float(self.samples[key][i]) if key in self.samples else float("nan")
            parts.append(f"{label} {'no reading' if np.isnan(v) else f'{v:.1f}°'}")
        state = self.samples.get("alert_state")
        if state is not None and state[i]:
            parts.append(f"alert state {state[i]}")
        self.values.setText(" · ".join(parts))

    def _draw_skeleton(self, frame_index: int) -> None:
        """The stored landmarks of this frame, redrawn with the live overlay."""
        if self.replay is None:
            return
        from PySide6.QtGui import QPixmap

        from posture_monitor.core.measure.metrics import measure
        from posture_monitor.gui.overlay import render_overlay

        poses, size, video = self.replay
        pose = poses.get(frame_index)
        qimage = render_overlay(_frame_image(video, frame_index, size), pose,
                                measure(pose, *size))
        self.picture.setPixmap(QPixmap.fromImage(qimage).scaled(
            max(self.picture.width(), 100), max(self.picture.height(), 100),
            Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
        self.shown_frame = frame_index


class HistoryWindow(QDialog):
    def __init__(self, store, parent: QWidget | None = None, patient: str | None = None):
        super().__init__(parent)
        self.store = store
        self.setWindowTitle("Patients and history")
        self.resize(1100, 750)
        self.patient = QComboBox(objectName="patient")
        self.patient.currentTextChanged.connect(self.refresh)
        new = QPushButton("New patient…", clicked=self.new_patient)
        top = QHBoxLayout()
        top.addWidget(QLabel("Patient (pseudonymous ID)"))
        top.addWidget(self.patient, 1)
        top.addWidget(new)
        self.table = QTableWidget(0, len(COLUMNS), objectName="sessions")
        self.table.setHorizontalHeaderLabels([c[1] for c in COLUMNS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.progress = pg.PlotWidget(title="Median CVA proxy per visit (band: within the "
                                      f"{MDC_CVA_DEG:.0f}° smallest real change of the first)")
        self.progress.setLabel("bottom", "visit")
        buttons = QHBoxLayout()
        for text, slot in (("Review", self.review_selected), ("Compare two", self.compare),
                           ("PDF report…", self.pdf_report), ("Export…", self.export),
                           ("Import…", self.import_session)):
            buttons.addWidget(QPushButton(text, clicked=slot, objectName=text))
        self.detail = QSplitter(Qt.Orientation.Horizontal)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        split = QSplitter(Qt.Orientation.Vertical)
        upper = QWidget()
        ul = QVBoxLayout(upper)
        ul.setContentsMargins(0, 0, 0, 0)
        ul.addWidget(self.table)
        ul.addLayout(buttons)
        split.addWidget(upper)
        self.exercise = ExerciseHistoryWidget(store)
        self.tabs = QTabWidget(objectName="progress_tabs")
        self.tabs.addTab(self.progress, "Posture per visit")
        self.tabs.addTab(self.exercise, "Exercise progress and goals")
        split.addWidget(self.tabs)
        split.addWidget(self.detail)
        split.setSizes([170, 260, 370])  # the review/comparison gets most of the room
        layout.addWidget(split, 1)
        self.sessions: list[dict] = []
        self.fill_patients(patient)

    def fill_patients(self, select: str | None = None) -> None:
        self.patient.blockSignals(True)
        self.patient.clear()
        for p in self.store.patients():
            self.patient.addItem(p["id"])
        self.patient.blockSignals(False)
        if select:
            self.patient.setCurrentText(select)
        self.refresh()

    def new_patient(self) -> None:
        pid, ok = QInputDialog.getText(self, "New patient", "Pseudonymous ID (no name):")
        if ok and pid.strip():
            self.store.add_patient(pid.strip())
            self.fill_patients(pid.strip())

    def refresh(self, *_) -> None:
        pid = self.patient.currentText()
        self.sessions = self.store.sessions(pid) if pid else []
        self.table.setRowCount(len(self.sessions))
        for row, s in enumerate(self.sessions):
            for col, (key, _) in enumerate(COLUMNS):
                self.table.setItem(row, col, QTableWidgetItem(_cell(key, s)))
        self._plot_progress()
        self.exercise.set_patient(pid)

    def _plot_progress(self) -> None:
        self.progress.clear()
        visits = list(reversed(self.sessions))  # oldest first
        cva = np.array([(s.get("summary") or {}).get("cva_deg") or np.nan for s in visits],
                       float)
        x = np.arange(1, len(visits) + 1)
        ok = ~np.isnan(cva)
        if not ok.any():
            note = pg.TextItem("no CVA readings yet: the CVA is measured in side views",
                               color="#aaa", anchor=(0.5, 0.5))
            self.progress.addItem(note)
            note.setPos(0.5, 0.5)
            return
        self.progress.plot(x[ok], cva[ok], pen=pg.mkPen("#27ae60", width=2), symbol="o",
                           name="median CVA proxy")
        if not np.isnan(cva[0]):
            # A change inside the measurement noise must not look like progress.
            self.band = pg.LinearRegionItem((cva[0] - MDC_CVA_DEG, cva[0] + MDC_CVA_DEG),
                                            orientation="horizontal", movable=False,
                                            brush=pg.mkBrush(39, 174, 96, 40))
            self.progress.addItem(self.band)

    def selected_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [self.sessions[r]["id"] for r in rows]

    def _show(self, widgets: list[QWidget]) -> None:
        for i in reversed(range(self.detail.count())):
            self.detail.widget(i).deleteLater()
        for w in widgets:
            self.detail.addWidget(w)

    def review_selected(self) -> None:
        ids = self.selected_ids()
        if ids:
            self._show([ReviewWidget(self.store, ids[0])])

    def compare(self) -> None:
        """Two sessions side by side, e.g. the first visit and today."""
        ids = self.selected_ids()
        if len(ids) < 2 and len(self.sessions) >= 2:
            ids = [self.sessions[-1]["id"], self.sessions[0]["id"]]  # first visit vs latest
        if len(ids) >= 2:
            self._show([ReviewWidget(self.store, ids[0]), ReviewWidget(self.store, ids[1])])

    def pdf_report(self) -> None:
        from posture_monitor.core.records.report import session_report

        ids = self.selected_ids()
        if not ids:
            return
        path, _ = QFileDialog.getSaveFileName(self, "PDF report", f"session-{ids[0]}.pdf",
                                              "PDF (*.pdf)")
        if path:
            from posture_monitor.core.records.report_exercise import session_exercise

            session = self.store.session(ids[0])
            history = list(reversed(self.store.sessions(session["patient_id"])))
            exercise, exercises = session_exercise(self.store, session)
            session_report(session, self.store.samples(ids[0]), path, history=history,
                           exercise=exercise, exercises=exercises)

    def export(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export session", f"session-{ids[0]}.csv",
                                              "CSV (*.csv)")
        if path:
            store_io.export_session(self.store, ids[0], path)

    def import_session(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import session", "", "CSV (*.csv)")
        if path:
            from posture_monitor.core.common.errors import UserError

            try:
                store_io.import_session(self.store, path, self.patient.currentText() or None)
            except UserError as exc:  # a refused file: its one line, nothing imported
                QMessageBox.warning(self, "Import refused", str(exc))
                return
            self.refresh()


def _frame_image(video, index: int, size: tuple[int, int]) -> np.ndarray:
    if video is not None:
        import cv2

        cap = cv2.VideoCapture(str(video))
        cap.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, image = cap.read()
        cap.release()
        if ok:
            return image
    return np.full((size[1], size[0], 3), 40, np.uint8)  # a plain canvas for the skeleton
