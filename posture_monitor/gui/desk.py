"""Alerts on screen, the tray icon and desk mode: the patient-at-a-desk side of the window.

The tray icon's colour shows the alert state; a new alert raises a tray notification
with its reason (and a beep if the user wants sound); the tray menu shows today's share
of time in good posture. Desk mode hides the window to the tray and lets the engine
analyse at 2 Hz (5 Hz while a deviation is building).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon

from posture_monitor.core.posture.desk import BreakTimer, PostureTally

STATE_COLOURS = {"ok": "#27ae60", "warning": "#f1c40f", "alert": "#c0392b", "away": "#95a5a6",
                 "paused": "#7f8c8d"}
DESK_RATE_HZ = 2.0
DESK_FAST_HZ = 5.0


def state_icon(state: str) -> QIcon:
    pixmap = QPixmap(64, 64)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor(STATE_COLOURS.get(state, STATE_COLOURS["paused"])))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(4, 4, 56, 56)
    painter.end()
    return QIcon(pixmap)


class DeskController:
    """Owns the tray icon and the desk-day tallies; the main window feeds it results."""

    def __init__(self, window) -> None:
        self.window = window
        self.tally = PostureTally()
        self.breaks = BreakTimer()
        self.state = "paused"
        self.sound = False
        self.notifications: list[tuple[str, str]] = []  # (title, text) shown, for tests
        self._last_index: int | None = None
        self.tray = QSystemTrayIcon(state_icon(self.state), window)
        self.tray.setToolTip("Posture Monitor")
        menu = QMenu(window)
        self.show_action = QAction("Show window", window, triggered=self.show_window)
        self.desk_action = QAction("Desk mode", window, checkable=True,
                                   toggled=self.set_desk_mode)
        self.pause_action = QAction("Pause (release the camera)", window, checkable=True,
                                    toggled=self.set_paused)
        self.tally_action = QAction(self.tally.summary(), window, enabled=False)
        menu.addAction(self.show_action)
        menu.addAction(self.desk_action)
        menu.addAction(self.pause_action)
        menu.addSeparator()
        menu.addAction(self.tally_action)
        menu.addSeparator()
        menu.addAction(QAction("Quit", window, triggered=window.close))
        self.menu = menu
        self.tray.setContextMenu(menu)
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray.show()

    def on_result(self, t: float, alert) -> None:
        """Feed each analysed frame's AlertUpdate (None for photos)."""
        if alert is None:
            return
        state = alert.state.value
        self.tally.update(t, state)
        if self.breaks.update(t, state != "away"):
            self.notify("Time for a break",
                        f"You have been sitting for {self.breaks.sit_limit_s / 60:.0f} "
                        "minutes: stand up and move for a few minutes.")
        if alert.new_alert:
            self.notify("Posture", alert.reason or "Posture deviation")
        if state != self.state:
            self.state = state
            self.tray.setIcon(state_icon(state))
            self.tray.setToolTip(f"Posture Monitor: {state}")
        self.tally_action.setText(self.tally.summary())

    def notify(self, title: str, text: str) -> None:
        self.notifications.append((title, text))
        self.tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, 8000)
        if self.sound:
            QApplication.beep()

    def set_desk_mode(self, on: bool) -> None:
        engine = self.window.engine
        if engine is not None:
            engine.set_rate(DESK_RATE_HZ if on else None, DESK_FAST_HZ if on else None)
        if on:
            self.window.hide()
        else:
            self.show_window()

    def set_paused(self, paused: bool) -> None:
        engine = self.window.engine
        if engine is not None:
            engine.pause(paused, release_camera=True)
        if paused:
            self.state = "paused"
            self.tray.setIcon(state_icon("paused"))

    def show_window(self) -> None:
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()

    def follow(self, engine) -> None:
        """Per new analysed frame: tray and tallies, the alert banner, set-up changes."""
        from posture_monitor.core.posture.baseline import setup_change
        from posture_monitor.gui.calibration import camera_info

        w = self.window
        result = engine.last_result
        if result is None or result.frame.index == self._last_index:
            return
        self._last_index = result.frame.index
        self.on_result(result.frame.time_s, result.alert)
        alert = result.alert
        if alert is not None and alert.state.value == "alert":
            w.show_banner("error", f"{alert.reason}.", tag="alert")
        elif w._banner_kind == "alert":
            w.banner.hide()
            w._banner_kind = None
        calibration = w.calibration
        if calibration.baseline is not None and calibration.phase == "idle":
            reason = setup_change(calibration.baseline, camera_info(engine), result)
            if reason:
                # Alarms against a stale baseline would be false alarms: pause them.
                calibration.apply(None, rules=())
                w.show_banner("warn", f"{reason}. Alerts are paused until you recalibrate "
                                      "(Ctrl+K).")
