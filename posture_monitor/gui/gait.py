"""Gait mode in the window: the Gait menu, the gait panel in a dock (figures and stride
curves), the gait timeline under the video, and the walker's skeleton on the picture.

The engine analyses (`LiveEngine.start_gait`, a GaitSink on its analysis thread) and
tells the walk so far on its bus, about every second of stream time, as GaitUpdated; the
final one (t = None) comes at the end of a video or when gait mode stops. The panel and
the timeline are redrawn from those events only; the frame on screen moves the timeline's
line for now. Gait mode is a mode of the window, like exercise mode: another source or
changed analysis settings open a new engine, and gait mode starts again on it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QDockWidget

from posture_monitor.core.common.settings import GaitSettings
from posture_monitor.core.run import events as ev
from posture_monitor.gui.gait_panel import GaitPanel
from posture_monitor.gui.gait_timeline import GaitTimeline

SHORTCUT = "Ctrl+Shift+G"
DOCK_WIDTH = 430  # the least; in gait mode it takes DOCK_SHARE of the window
DOCK_SHARE = 0.45


class GaitController:
    def __init__(self, window) -> None:
        self.window = window
        self.settings: GaitSettings | None = None  # the mode chosen; kept across engines
        self.summary: dict | None = None  # the last final GaitUpdated's
        self.walker: int | None = None  # the person analysed, from the last update
        self.updates = 0  # GaitUpdated events shown since gait mode started on this engine
        self.panel = GaitPanel()
        self.dock = QDockWidget("Gait", window, objectName="gait_dock")
        self.dock.setWidget(self.panel)
        self.dock.setMinimumWidth(DOCK_WIDTH - 40)
        # No close button: Gait > Gait panel shows and hides it (and the timeline).
        self.dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                              | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.hide()
        self.timeline = GaitTimeline()
        column = window.video_column  # under the video, above the seek slider
        column.insertWidget(column.indexOf(window.seek), self.timeline)
        self.timeline.hide()
        self.action = QAction("Start gait analysis", window)
        self.action.setShortcut(QKeySequence(SHORTCUT))
        self.action.triggered.connect(self.toggle)
        window.addAction(self.action)  # the shortcut works in fullscreen too
        self.panel_action = QAction("Gait panel", window, checkable=True)
        self.panel_action.toggled.connect(self._show_panel)
        events = window.events
        events.subscribe(ev.GaitUpdated, self._updated)
        # Posture alerts mean nothing while walking across the room: their banner goes.
        events.subscribe(ev.AlertStarted, self._alert_started)

    def fill_menu(self, menu) -> None:
        menu.addAction(self.action)
        menu.addAction(self.panel_action)

    @property
    def running(self) -> bool:
        return self.settings is not None

    # --- user actions --------------------------------------------------------------
    def toggle(self) -> None:
        if self.settings is not None:
            self.stop()
        else:
            self.start()

    def start(self, settings: GaitSettings | None = None) -> bool:
        """Gait mode; without a source it starts once one opens. Exercise mode stops:
        one mode of movement at a time."""
        if self.window.exercise.settings is not None:
            self.window.exercise.stop()
            self.window.exercise.panel_action.setChecked(False)
        # the walker's height from Settings (step lengths in metres too)
        self.settings = settings or self.window.settings_in_force.gait_settings()
        self.action.setText("Stop gait analysis")
        self.panel_action.setChecked(True)
        self._show_panel(True)
        if self.window.engine is None:
            self.window.show_banner("warn", "Gait analysis starts once a camera or video "
                                    "is open.", tag="gait")
            return False
        self._start_on_engine()
        return True

    def stop(self) -> None:
        self.settings = None
        self.action.setText("Start gait analysis")
        self.window.hide_banner("gait")
        engine = self.window.engine
        if engine is not None:
            engine.stop_gait()  # the final GaitUpdated follows on the bus

    def _start_on_engine(self) -> None:
        engine = self.window.engine
        source = engine.source
        frames, fps = getattr(source, "frame_count", None), getattr(source, "fps", None)
        self.timeline.set_duration(frames / fps if source is not None and source.kind ==
                                   "video" and frames and fps else None)
        self.panel.clear()
        self.timeline.clear_events()
        self.summary, self.walker, self.updates = None, None, 0
        self.window.hide_banner("alert")
        engine.start_gait(self.settings)

    # --- the window's engine comes and goes ----------------------------------------
    def engine_opened(self) -> None:
        if self.settings is not None:
            self.window.hide_banner("gait")
            self._start_on_engine()

    def engine_closing(self, engine) -> None:
        """Before the window lets go of `engine`: end its gait analysis and deliver the
        final update, which its bus would otherwise keep."""
        if engine.gait is not None:
            engine.stop_gait()
            self.window.events.dispatch()

    # --- events --------------------------------------------------------------------
    def _updated(self, event: ev.GaitUpdated) -> None:
        self.updates += 1
        person = (event.summary or {}).get("person") or {}
        self.walker = person.get("analysed")
        result = event.result
        self.panel.show_update(event.t, result, event.summary or {})
        self.timeline.show_events(result.events if result is not None else [])
        self.timeline.show_spans((event.summary or {}).get("analysed_s") or [])
        if event.t is None:
            self.summary = event.summary

    def _alert_started(self, event: ev.AlertStarted) -> None:
        if self.settings is not None:  # subscribed after the banner: this runs after it
            self.window.hide_banner("alert")

    def _show_panel(self, shown: bool) -> None:
        """The gait panel and timeline in place of the posture panel and plots, or back.
        They stay after gait mode stops, with the results, until hidden here."""
        w = self.window
        if not shown:
            self.dock.hide()
            self.timeline.hide()
            w.plots.show()
            w.side_scroll.show()
            return
        w.plots.hide()  # room for the walker and the panel
        w.side_scroll.hide()
        self.timeline.show()
        width = max(DOCK_WIDTH, int(w.width() * DOCK_SHARE))
        if not self.dock.isVisible():
            # As in exercise mode: let the layout learn of the hidden panels first, or the
            # dock widens the window by their old room.
            QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
            self.dock.show()
        w.resizeDocks([self.dock], [width], Qt.Orientation.Horizontal)

    # --- frames on screen ----------------------------------------------------------
    def show_frame(self, item) -> None:
        if self.timeline.isVisible():
            self.timeline.set_now(item.result.frame.time_s)

    def walker_pose(self, item):
        """The pose to draw in gait mode: the walker's (the person analysed), else the
        one the pipeline measures."""
        r = item.result
        if self.walker is None or self.walker == r.person_id:
            return item.pose  # smoothed
        return next((p.pose for p in r.people if p.id == self.walker), item.pose)
