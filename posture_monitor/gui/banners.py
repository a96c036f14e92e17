"""The window's two banners above the video: one that comes and goes (camera, calibration,
alerts, set-up changes: what the engine's events tell) and one for lasting problems with
the window's own files (settings, profiles, database)."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel

from posture_monitor.core.run import events as ev

STYLES = {"warn": "background:#f39c12;color:black;padding:6px;font-weight:bold",
          "ok": "background:#27ae60;color:white;padding:6px;font-weight:bold",
          "error": "background:#c0392b;color:white;padding:6px;font-weight:bold"}
RECOVERED_SHOWN_MS = 4000  # "Camera back" is good news: it need not stay


class Banner(QLabel):
    """One message at a time; a `tag` lets whoever showed it take it down again without
    hiding a newer one (the alert banner goes when its alert ends)."""

    def __init__(self) -> None:
        super().__init__(objectName="banner", wordWrap=True)
        self._tag: str | None = None
        self.hide()

    @property
    def tag(self) -> str | None:
        """The tag of the message on screen (None: untagged or hidden)."""
        return self._tag if self.isVisible() else None

    def show_message(self, level: str, text: str, tag: str | None = None) -> None:
        self._tag = tag
        self.setStyleSheet(STYLES[level])
        self.setText(text)
        self.show()

    def hide_message(self, tag: str | None = None) -> None:
        """Hide the message; with a `tag`, only if the message shown is that one."""
        if tag is not None and self._tag != tag:
            return
        self._tag = None
        self.hide()

    def follow(self, events) -> None:
        """Subscribe to the engine's events (through the window's EventBridge)."""
        sub = events.subscribe
        sub(ev.CameraLost, lambda e: self.show_message(
            "warn", f"Camera lost: {e.message}. Recording continues.", tag="camera"))
        sub(ev.CameraRecovered, self._camera_back)
        sub(ev.SourceEnded, lambda e: self.show_message(
            "ok", "End of the video. Open another file, or seek back."))
        sub(ev.EngineError, lambda e: self.show_message("error", e.message))
        sub(ev.EngineWarning, lambda e: self.show_message("warn", e.message))
        sub(ev.SetupChanged, lambda e: self.show_message(
            "warn", f"{e.reason}. Alerts are paused until you recalibrate (Ctrl+K).",
            tag="setup"))
        sub(ev.AlertStarted, lambda e: self.show_message("error", f"{e.reason}.", tag="alert"))
        sub(ev.AlertEnded, lambda e: self.hide_message("alert"))
        sub(ev.AlertStateChanged, self._alert_state_changed)

    def _alert_state_changed(self, event: ev.AlertStateChanged) -> None:
        if event.state != "alert":  # e.g. gone away mid-alert: the alert is over too
            self.hide_message("alert")

    def _camera_back(self, event: ev.CameraRecovered) -> None:
        self.show_message("ok", f"Camera back: {event.message}.", tag="camera")
        QTimer.singleShot(RECOVERED_SHOWN_MS, self, lambda: self.hide_message("camera"))


class FileBanner(QLabel):
    """Lasting problems with the window's files: one line each, it stays (the problem
    does); "error" wins the colour."""

    def __init__(self) -> None:
        super().__init__(objectName="file_banner", wordWrap=True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._problems: list[str] = []
        self._level = "warn"
        self.hide()

    def add(self, level: str, text: str) -> None:
        if text not in self._problems:
            self._problems.append(text)
        if level == "error":
            self._level = "error"
        self.setStyleSheet(STYLES[self._level])
        self.setText("\n".join(self._problems))
        self.show()
