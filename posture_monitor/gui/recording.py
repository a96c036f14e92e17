"""Recording actions of the main window: a session into CSV + JSON (the same recorder as
`analyze`) and into the local store, snapshots, and CSV export."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from posture_monitor.core.common.errors import UserError
from posture_monitor.core.records.store import DamagedStoreError, ReadOnlyStoreError


class RecordingActions:
    """Mixed into MainWindow; uses its engine, store, calibration (the patient) and
    status bar."""

    def toggle_recording(self) -> None:
        if self.engine is None:
            return
        if self.engine.recording:
            self._stop_recording()
        else:
            self.engine.wait_ready()
            try:
                session = self._start_db_session()
            except (DamagedStoreError, ReadOnlyStoreError) as exc:  # nothing is written
                self.record_action.setEnabled(False)
                self.show_file_problem("error", f"{exc}. Recording is off.")
                return
            except UserError as exc:
                self.show_banner("error", f"Recording not started: {exc}")
                return
            # The engine stores the CSV's path in the session at once (a session whose
            # process dies still leads to its CSV) and finishes it when recording stops.
            path = self.engine.start_recording(self.sessions_dir,
                                               record_video=self.app_settings.record_video,
                                               session=session)
            self.record_action.setText("Stop recording")
            self.statusBar().showMessage(f"Recording to {path}", 5000)

    def _start_db_session(self):
        """The patient is the current profile's person; the session goes into the store
        now, so a store that cannot be written stops the recording before it starts."""
        from posture_monitor.core.run.sinks import StoredSession

        session = StoredSession(self.store, self.calibration.person,
                                self.engine.capture.last_source.description,
                                self.engine.model_name, self.engine.settings.to_dict())
        session.begin()
        self.db_session = session
        return session

    def _stop_recording(self) -> None:
        self.last_csv = self.engine.stop_recording()  # finishes the stored session too
        self.db_session = None
        self.record_action.setText("Start recording")
        self.statusBar().showMessage(f"Session saved: {self.last_csv}", 8000)

    def snapshot(self) -> Path | None:
        """The current view with its overlay, at the camera's full resolution."""
        if self.last_item is None:
            return None
        self.sessions_dir.mkdir(parents=True, exist_ok=True)
        path = self.sessions_dir / time.strftime("snapshot-%Y%m%d-%H%M%S.png")
        self._overlay(self.last_item.frame.image, self.last_item).save(str(path))
        self.statusBar().showMessage(f"Snapshot saved: {path}", 5000)
        return path

    def export_csv(self) -> None:
        if self.last_csv is None:
            self.statusBar().showMessage("Record a session first (Ctrl+R).", 5000)
            return
        target, _ = QFileDialog.getSaveFileName(self, "Export CSV",
                                                str(Path.home() / self.last_csv.name),
                                                "CSV (*.csv)")
        if target:
            shutil.copyfile(self.last_csv, target)
            shutil.copyfile(self.last_csv.with_suffix(".json"),
                            Path(target).with_suffix(".json"))

