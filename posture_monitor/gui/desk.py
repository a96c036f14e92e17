"""The tray icon and desk mode: the patient-at-a-desk side of the window.

The tray icon's colour shows the alert state; each alert the engine starts raises one
tray notification with its reason (and a beep if the user wants sound); the tray menu
shows today's share of time in good posture. Everything here follows the engine's events
(AlertStateChanged, AlertStarted, PersonAway, PersonBack): nothing reads its results.
Desk mode hides the window to the tray and lets the engine analyse at 2 Hz (5 Hz while a
deviation is building).
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon

from posture_monitor.core.posture.desk import BreakTimer, PostureTally
from posture_monitor.core.run import events as ev

STATE_COLOURS = {"ok": "#27ae60", "warning": "#f1c40f", "alert": "#c0392b", "away": "#95a5a6",
                 "paused": "#7f8c8d"}
DESK_RATE_HZ = 2.0
DESK_FAST_HZ = 5.0
# The tallies and the break timer count time at the desk: the state only changes on an
# event, so a clock adds up the time spent in it (well inside PostureTally's 5 s gap).
TALLY_TICK_MS = 1000
PRESENT_STATES = ("ok", "warning", "alert")


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
    """Owns the tray icon and the desk-day tallies; subscribes to the engine's alert and
    presence events through the window's event bridge."""

    def __init__(self, window, clock=time.monotonic) -> None:
        self.window = window
        self.tally = PostureTally()
        self.breaks = BreakTimer()
        self.state = "paused"  # what the tray shows
        self.engine_state = "paused"  # what the engine last told (kept through a pause)
        self.present = True
        self.sound = False
        self.notifications: list[tuple[str, str]] = []  # (title, text) shown, for tests
        self._clock = clock
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
        events = window.events
        events.subscribe(ev.AlertStateChanged, self._state_changed)
        events.subscribe(ev.AlertStarted, self._alert_started)
        events.subscribe(ev.PersonAway, self._person_away)
        events.subscribe(ev.PersonBack, self._person_back)
        self._tick_timer = QTimer(window, interval=TALLY_TICK_MS, timeout=self.tick)
        self._tick_timer.start()

    def _state_changed(self, event: ev.AlertStateChanged) -> None:
        self.engine_state = event.state
        if not self.pause_action.isChecked():
            self.set_state(event.state)

    def _alert_started(self, event: ev.AlertStarted) -> None:
        self.notify("Posture", event.reason or "Posture deviation")

    def _person_away(self, event: ev.PersonAway) -> None:
        self.present = False

    def _person_back(self, event: ev.PersonBack) -> None:
        self.present = True

    def set_state(self, state: str) -> None:
        """The tray icon's colour and tooltip for an alert state (or "paused")."""
        if state == self.state:
            return
        self.tick()  # the time so far belongs to the state that ends now
        self.state = state
        self.tray.setIcon(state_icon(state))
        self.tray.setToolTip(f"Posture Monitor: {state}")

    def tick(self) -> None:
        """Add the time since the last tick to today's tally and the sitting time."""
        engine = self.window.engine
        if self.state == "paused" or engine is None or engine.paused:
            return
        now = self._clock()
        present = self.present and self.state != "away"
        self.tally.update(now, self.state if present else "away")
        if self.breaks.update(now, present):
            self.notify("Time for a break",
                        f"You have been sitting for {self.breaks.sit_limit_s / 60:.0f} "
                        "minutes: stand up and move for a few minutes.")
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
        # Resumed: the engine's state has not changed meanwhile, so no event will say it.
        self.set_state("paused" if paused else self.engine_state)

    def show_window(self) -> None:
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()
