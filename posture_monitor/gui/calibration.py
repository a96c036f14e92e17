"""Guided baseline calibration: a countdown, 5 s of the person's neutral posture, and an
optional second step (a deliberate slouch) that sets their own thresholds. The engine
captures (`engine.calibrate`) and tells its progress and result as events; the result is
saved in the person's profile for this camera and handed back to the engine."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

from posture_monitor.core.common.errors import UserError
from posture_monitor.core.measure.definitions import METRIC_BY_COLUMN
from posture_monitor.core.posture.alerts import AlertRule
from posture_monitor.core.posture.baseline import Profile, ProfileStore
from posture_monitor.core.run import events as ev

COUNTDOWN_S = 3
CAPTURE_S = 5.0
COUNTDOWN_TICK_MS = 1000  # the countdown is the view's own: it reads nothing


def personal_rules(baseline) -> tuple[AlertRule, ...]:
    """Two-point calibration: alert when a metric passes the halfway point between the
    person's neutral and their deliberate slouch, in the slouch's direction."""
    rules = []
    for key, threshold in baseline.personal_thresholds().items():
        neutral = baseline.metrics[key].median
        direction = "below" if baseline.slouch[key] < neutral else "above"
        unit = METRIC_BY_COLUMN[key].unit if key in METRIC_BY_COLUMN else "deg"
        name = key.removesuffix(f"_{unit}").replace("_", " ")
        # 2 deg for angles as before; ratios and cm have no degrees: a quarter of the way
        # back to neutral, so an alert on a front-view ratio can end.
        dead_zone = 2.0 if unit == "deg" else 0.25 * abs(threshold - neutral)
        rules.append(AlertRule(key, direction, threshold, dead_zone, f"Slouching ({name})",
                               unit))
    return tuple(rules)


class CalibrationController(QObject):
    def __init__(self, window, store: ProfileStore) -> None:
        super().__init__(window)
        self.window = window
        self.store = store
        self.person = "default"
        self.baseline = None
        self.phase = "idle"  # idle | countdown | capture
        self.slouch_step = False
        self._countdown = QTimer(self, interval=COUNTDOWN_TICK_MS, timeout=self._count_down)
        self._left_s = 0
        events = window.events
        events.subscribe(ev.CalibrationProgress, self._progress)
        events.subscribe(ev.CalibrationFinished, self._finished)
        events.subscribe(ev.SetupChanged, self._setup_changed)

    def start(self, slouch: bool = False) -> None:
        """Begin a calibration; `slouch` records the second point (needs a baseline)."""
        if self.window.engine is None:
            self.window.show_banner("warn", "Open a camera or video before calibrating.")
            return
        if slouch and self.baseline is None:
            self.window.show_banner("warn", "Calibrate the neutral posture first (Ctrl+K).")
            return
        self.slouch_step = slouch
        self.phase, self._left_s = "countdown", COUNTDOWN_S
        self._countdown.start()
        self._count_down()

    def cancel(self) -> None:
        """Stop a calibration (the source was closed: a capture of it never finishes)."""
        self._countdown.stop()
        if self.phase == "capture" and self.window.engine is not None:
            self.window.engine.cancel_calibration()
        self.phase = "idle"

    def _count_down(self) -> None:
        engine = self.window.engine
        if engine is None:
            self.cancel()
            return
        if self._left_s > 0:
            what = ("Now slouch the way you do when tired" if self.slouch_step else
                    "Sit as your physiotherapist showed you")
            self.window.show_banner("warn", f"{what}: calibration starts in {self._left_s} s")
            self._left_s -= 1
            return
        self._countdown.stop()
        self.phase = "capture"
        self.window.show_banner("warn", "Hold still: capturing 0 %")
        # The slouch is added to the baseline this window shows, not to one the engine
        # may have dropped meanwhile.
        engine.calibrate(CAPTURE_S, slouch=self.slouch_step,
                         baseline=self.baseline if self.slouch_step else None)

    def _progress(self, event: ev.CalibrationProgress) -> None:
        if self.phase == "capture":
            self.window.show_banner("warn", f"Hold still: capturing {100 * event.fraction:.0f} %")

    def _finished(self, event: ev.CalibrationFinished) -> None:
        if self.phase != "capture":  # cancelled meanwhile
            return
        self.phase = "idle"
        if event.baseline is None:
            self.window.show_banner("error", f"Calibration failed: {event.error}")
            return
        baseline = event.baseline
        rules = (personal_rules(baseline) or None) if event.slouch else None
        self.apply(baseline, rules)
        done = ("Your own slouch threshold is set" if event.slouch else
                "Calibrated: alerts now compare with your own neutral posture")
        try:
            # Keyed by the camera the baseline was taken with (profiles are per set-up).
            self.store.save(Profile(self.person, baseline.camera["description"], baseline))
        except UserError as exc:  # a folder at the profiles path, a read-only folder
            self.window.show_banner("warn", f"{done} for now, but not saved: {exc}.")
            return
        if self.store.backup is not None:
            self.window.show_file_problem("warn", f"profiles file {self.store.path} held "
                                          "content that could not be kept in it; the file "
                                          f"as it was is kept as {self.store.backup}")
        self.window.show_banner("ok", f"{done} (profile '{self.person}').")

    def _setup_changed(self, event: ev.SetupChanged) -> None:
        # The engine has paused the alerts; the side panel stops comparing with a
        # baseline that no longer fits either. The window's banner asks to recalibrate.
        self.baseline = None

    def apply(self, baseline, rules=None) -> None:
        self.baseline = baseline
        if self.window.engine is not None:
            self.window.engine.set_baseline(baseline, rules)

    def load_profile(self) -> None:
        """On opening a source: use this person's baseline for this camera, if any."""
        engine = self.window.engine
        if engine is None:
            return
        profile = self.store.get(self.person, engine.source.description)
        self.baseline = None
        if profile is not None and profile.baseline is not None:
            rules = personal_rules(profile.baseline) if profile.baseline.slouch else None
            self.apply(profile.baseline, rules or None)

    def check_profiles_file(self) -> None:
        """A profiles file with content a save would drop: copied aside now (the banner
        names the copy), so a calibration can save without losing anything."""
        self.store.list()
        warning = self.store.warning
        try:
            copy = self.store.keep_copy()
        except OSError as exc:
            what = warning or f"profiles file {self.store.path}"
            self.window.show_file_problem("warn", f"{what}; no copy of it could be kept "
                                          f"({exc.strerror}), so profiles will not be saved "
                                          "over it")
            return
        if copy is not None:
            what = warning or (f"profiles file {self.store.path} holds content this "
                               "version does not know")
            self.window.show_file_problem("warn", f"{what}; the file as it was is kept as "
                                          f"{copy}")
        elif warning:
            self.window.show_file_problem("warn", warning)

    # --- profiles (the Profile menu) ----------------------------------------------
    def fill_menu(self, menu, calibrate_action) -> None:
        menu.clear()
        menu.addAction(calibrate_action)
        menu.addAction("Two-point calibration: record a slouch", lambda: self.start(slouch=True))
        menu.addSeparator()
        people = sorted({p.person for p in self.store.list()} | {self.person})
        for person in people:
            action = menu.addAction(person, lambda p=person: self.switch_person(p))
            action.setCheckable(True)
            action.setChecked(person == self.person)
        menu.addAction("New person…", self._new_person)

    def _new_person(self) -> None:
        from PySide6.QtWidgets import QInputDialog

        name, ok = QInputDialog.getText(self.window, "New person", "Pseudonymous name or ID:")
        if ok and name.strip():
            self.switch_person(name.strip())

    def switch_person(self, person: str) -> None:
        """Use `person`'s baseline for this camera; without one, ask for a calibration."""
        self.person = person
        self.load_profile()
        engine = self.window.engine
        if engine is not None and self.baseline is None:
            engine.set_baseline(None)
            self.window.show_banner("warn", f"Profile '{person}' has no baseline for this "
                                            "camera: calibrate (Ctrl+K).")
