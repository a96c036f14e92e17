"""Exercise mode in the window: the Exercise menu, the exercise panel in a dock, the
counted joint on the picture, and the audio cues.

The engine counts (`LiveEngine.start_exercise`, on its analysis thread) and tells what
happened on its bus: ExerciseStarted, RepCompleted, FormCueRaised, ExerciseStopped. The
count, the bars, the cue text and the sounds follow those events only, so a repetition
is never missed or told twice, whatever the display rate. The live curves and the arc are
drawn from the frames on screen: their counted value comes from the tracker's pure
`primary_value` on the frame's own numbers, and the velocity from core kinematics.

Exercise mode is a mode of the window, like desk mode: another source or changed
analysis settings open a new engine, and the exercise starts again on it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QDockWidget

from posture_monitor.core.common.errors import UserError
from posture_monitor.core.common.settings import ExerciseSettings
from posture_monitor.core.measure.joints import COLUMN_INFO, JOINT_BY_NAME, SIDES, column_title
from posture_monitor.core.movement.kinematics import trailing_velocity
from posture_monitor.core.movement.tracker import view_family
from posture_monitor.core.run import events as ev
from posture_monitor.core.run.exercise_sink import frame_values
from posture_monitor.gui.cues import CuePlayer
from posture_monitor.gui.exercise_overlay import ExerciseMark
from posture_monitor.gui.exercise_panel import ExercisePanel
from posture_monitor.gui.side_panel import VIEW_TEXT

SHORTCUT = "Ctrl+Shift+E"  # Ctrl+E is File > Export CSV
DOCK_WIDTH = 430  # the least; in exercise mode it takes DOCK_SHARE of the window
DOCK_SHARE = 0.45
# Analysed frames kept for the live velocity: more than trailing_velocity fits over (5).
RECENT_FRAMES = 16


class ExerciseController:
    def __init__(self, window) -> None:
        self.window = window
        s = window.app_settings
        self.settings: ExerciseSettings | None = None  # the mode chosen; kept across engines
        self.running = False  # between ExerciseStarted and ExerciseStopped
        self.summary: dict | None = None  # the last exercise's, when it stopped
        self.player = CuePlayer(s.exercise_sound, s.exercise_speech)
        self.panel = ExercisePanel(s.plot_window_s)
        self.panel.decimals = s.angle_decimals
        self.dock = QDockWidget("Exercise", window, objectName="exercise_dock")
        self.dock.setWidget(self.panel)
        self.dock.setMinimumWidth(DOCK_WIDTH - 40)
        # No close button: Exercise > Exercise panel shows and hides it, and gives the
        # posture panel and plots their room back.
        self.dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                              | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.hide()  # shown once an exercise starts
        self.action = QAction("Start exercise…", window)
        self.action.setShortcut(QKeySequence(SHORTCUT))
        self.action.triggered.connect(self.toggle)
        window.addAction(self.action)  # the shortcut works in fullscreen too
        self.panel_action = QAction("Exercise panel", window, checkable=True)
        self.panel_action.toggled.connect(self._show_panel)
        self._times: list[float] = []  # stream times of the analysed frames plotted
        self._values: list[float | None] = []
        self._family: str | None = None
        self._view: str | None = None
        events = window.events
        events.subscribe(ev.ExerciseStarted, self._started)
        events.subscribe(ev.RepCompleted, self._rep)
        events.subscribe(ev.FormCueRaised, self._cue)
        events.subscribe(ev.ExerciseStopped, self._stopped)
        # Posture alerts ("forward head") mean nothing during squats: their banner goes.
        events.subscribe(ev.AlertStarted, self._alert_started)

    def fill_menu(self, menu) -> None:
        menu.addAction(self.action)
        menu.addAction(self.panel_action)

    # --- user actions --------------------------------------------------------------
    def toggle(self) -> None:
        if self.settings is not None:
            self.stop()
            return
        from posture_monitor.gui.exercise_dialog import ExerciseDialog

        dialog = ExerciseDialog(self.window.settings_in_force.rep_target_deg, self.window)
        if dialog.exec():
            self.start(*dialog.choice())

    def start(self, name: str, side: str = "both", joints: tuple[str, ...] = ()) -> bool:
        """Exercise mode with the user's thresholds and target (from Settings); without a
        source it starts once one opens."""
        self.settings = self.window.settings_in_force.exercise_settings(name, side, joints)
        self.action.setText("Stop exercise")
        if self.window.engine is None:
            self.window.show_banner("warn", "Exercise mode starts once a camera or video "
                                    "is open.", tag="exercise")
            return False
        return self._start_on_engine()

    def stop(self) -> None:
        self.settings = None
        self.action.setText("Start exercise…")
        self.window.hide_banner("exercise")
        engine = self.window.engine
        if engine is not None:
            engine.stop_exercise()  # ExerciseStopped follows on the bus

    def _start_on_engine(self) -> bool:
        try:
            self.window.engine.start_exercise(self.settings)
        except (UserError, ValueError) as exc:  # an unknown preset or joint
            self.settings = None
            self.action.setText("Start exercise…")
            self.window.show_banner("error", f"Exercise not started: {exc}", tag="exercise")
            return False
        return True

    # --- the window's engine comes and goes ----------------------------------------
    def engine_opened(self) -> None:
        if self.settings is not None:
            self.window.hide_banner("exercise")
            self._start_on_engine()

    def engine_closing(self, engine) -> None:
        """Before the window lets go of `engine`: end its exercise and deliver what that
        tells (the last repetition, the summary), which its bus would otherwise keep."""
        if engine.exercise is not None:
            engine.stop_exercise()
            self.window.events.dispatch()

    def apply_settings(self, s) -> None:
        self.player.sound, self.player.speech = s.exercise_sound, s.exercise_speech
        self.panel.set_window(s.plot_window_s)
        self.panel.decimals = s.angle_decimals

    # --- events ----------------------------------------------------------------------
    def _tracker(self):
        engine = self.window.engine
        return engine.exercise if engine is not None else None

    def _started(self, event: ev.ExerciseStarted) -> None:
        tracker = self._tracker()
        if tracker is None:  # already stopped again: its ExerciseStopped is on its way
            return
        self.running, self.summary, self._family, self._view = True, None, None, None
        self._times, self._values = [], []
        preset = tracker.preset
        bar_joint = preset.symmetry or next(iter(preset.primary.values())).joint
        self.panel.begin(event.title, event.side, preset.view, self._signals(tracker),
                         JOINT_BY_NAME[bar_joint].unit, (preset.to_peak, preset.from_peak))
        self.window.hide_banner("alert")
        self.panel_action.setChecked(True)
        self._show_panel(True)  # again if it was on already: its width may have changed

    def _show_panel(self, shown: bool) -> None:
        """The exercise panel in place of the posture panel and plots, or back. It stays
        after an exercise stops, with its results, until it is hidden here."""
        w = self.window
        if not shown:
            self.dock.hide()
            w.plots.show()
            w.side_scroll.show()
            return
        w.plots.hide()  # room for the moving body and the panel
        w.side_scroll.hide()
        width = max(DOCK_WIDTH, int(w.width() * DOCK_SHARE))
        if not self.dock.isVisible():
            # The window's layout learns of the hidden panels only on its next turn: let it
            # now, or showing the dock widens the window by the panels' old room.
            QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
            self.dock.show()
        w.resizeDocks([self.dock], [width], Qt.Orientation.Horizontal)

    @staticmethod
    def _signal_words(tracker, primary) -> str:
        """The tracker's name of a counted signal in words: "knee flexion (mean of both
        sides)", "Knee flexion (right)"."""
        name = tracker.signal_name(primary)
        if name in COLUMN_INFO:
            return column_title(name)
        joint = JOINT_BY_NAME[primary.joint]
        return name.replace(joint.name, joint.short.lower(), 1)

    def _signals(self, tracker) -> str:
        names = {f: self._signal_words(tracker, p) for f, p in tracker.preset.primary.items()}
        if len(names) == 1:
            return next(iter(names.values()))
        return " or ".join(f"{n} from the {f}" for f, n in names.items())

    def _alert_started(self, event: ev.AlertStarted) -> None:
        if self.running:  # subscribed after the banner: this runs once it has shown it
            self.window.hide_banner("alert")

    def _rep(self, event: ev.RepCompleted) -> None:
        self.panel.add_rep(event.row, event.complete_count)
        if event.row.get("complete"):
            self.player.play(f"Rep {event.complete_count}")

    def _cue(self, event: ev.FormCueRaised) -> None:
        where = f", {event.side}" if event.side else ""
        self.panel.show_cue(f"{event.cue} ({event.title.lower()}{where}, at "
                            f"{event.t:.1f} s)")
        self.player.play(event.cue)

    def _stopped(self, event: ev.ExerciseStopped) -> None:
        self.running = False
        self.summary = event.summary
        self.panel.end(event.summary)
        s = event.summary or {}
        if s:
            self.window.statusBar().showMessage(
                f"{s['title']}: {s['reps']} complete repetitions, {s['incomplete']} "
                "incomplete", 10_000)

    # --- frames on screen ----------------------------------------------------------------
    def show_frame(self, item) -> None:
        """Feed the live curves with the analysed frame behind `item` (once per analysed
        frame: several shown frames share one)."""
        tracker = self._tracker()
        if not self.running or tracker is None:
            return
        r = item.result
        t = r.frame.time_s
        if self._times and t == self._times[-1]:
            return
        if self._times and t < self._times[-1]:  # seeked back: the curves start again
            self._times, self._values = [], []
            self.panel.buffer.clear()
        view = r.measurement.view
        family = view_family(view)
        value = tracker.primary_value(family, frame_values(r))
        if view != self._view:
            self._view = view
            self.panel.set_view(VIEW_TEXT.get(view, view))
        if family is not None and family != self._family and family in tracker.preset.primary:
            self._family = family
            p = tracker.preset.primary[family]
            self.panel.set_signal(self._signal_words(tracker, p),
                                  JOINT_BY_NAME[p.joint].unit)
        self._times.append(t)
        self._values.append(value)
        del self._times[:-RECENT_FRAMES], self._values[:-RECENT_FRAMES]
        self.panel.append(t, value, trailing_velocity(self._times, self._values))

    def mark(self, item) -> ExerciseMark | None:
        """The counted joint to draw on this frame, or None outside exercise mode."""
        tracker = self._tracker()
        if not self.running or tracker is None:
            return None
        family = view_family(item.result.measurement.view)
        p = tracker.preset.primary.get(family) if family else None
        if p is None:
            return None
        sides = SIDES if tracker.side == "both" else (tracker.side,)
        return ExerciseMark(p.joint, sides, item.result.angles.values, self.panel.decimals)

    def refresh(self) -> None:
        if self.dock.isVisible():
            self.panel.refresh()
