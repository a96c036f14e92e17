"""Guided baseline calibration: a countdown, 5 s of the person's neutral posture, and an
optional second step (a deliberate slouch) that sets their own thresholds. The result
is saved in the person's profile for this camera and handed to the engine."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QObject, QTimer

from posture_monitor.core.common.errors import UserError
from posture_monitor.core.measure.definitions import METRIC_BY_COLUMN
from posture_monitor.core.posture.alerts import AlertRule
from posture_monitor.core.posture.baseline import BaselineCollector, Profile, ProfileStore
from posture_monitor.core.posture.baseline import camera_info as source_camera_info

COUNTDOWN_S = 3
CAPTURE_S = 5.0
TICK_MS = 100


def camera_info(engine) -> dict:
    return source_camera_info(engine.source)  # the same record `analyze --baseline-from` keeps


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
        self._timer = QTimer(self, interval=TICK_MS, timeout=self._tick)
        self._ticks = 0
        self._collector: BaselineCollector | None = None
        self._last_index: int | None = None

    def start(self, slouch: bool = False) -> None:
        """Begin a calibration; `slouch` records the second point (needs a baseline)."""
        if self.window.engine is None:
            self.window.show_banner("warn", "Open a camera or video before calibrating.")
            return
        if slouch and self.baseline is None:
            self.window.show_banner("warn", "Calibrate the neutral posture first (Ctrl+K).")
            return
        self.slouch_step = slouch
        self.phase, self._ticks = "countdown", 0
        self._timer.start()
        self._tick()

    def _tick(self) -> None:
        engine = self.window.engine
        if engine is None:
            self._timer.stop()
            self.phase = "idle"
            return
        if self.phase == "countdown":
            left = COUNTDOWN_S - self._ticks * TICK_MS / 1000
            if left > 0:
                what = ("Now slouch the way you do when tired" if self.slouch_step else
                        "Sit as your physiotherapist showed you")
                self.window.show_banner("warn", f"{what}: calibration starts in "
                                                f"{left:.0f} s")
                self._ticks += 1
                return
            self.phase = "capture"
            self._collector = BaselineCollector(CAPTURE_S)
            self._last_index = None
        result = engine.last_result
        if result is not None and result.frame.index != self._last_index:
            self._last_index = result.frame.index
            self._collector.add(result)
        self.window.show_banner("warn", f"Hold still: capturing "
                                        f"{100 * self._collector.progress():.0f} %")
        if self._collector.done:
            self._finish(engine)

    def _finish(self, engine) -> None:
        self._timer.stop()
        self.phase = "idle"
        camera = camera_info(engine)
        try:
            if self.slouch_step:
                baseline = replace(self.baseline, slouch=self._collector.slouch_medians())
                rules = personal_rules(baseline) or None
            else:
                baseline, rules = self._collector.baseline(camera), None
        except UserError as exc:
            self.window.show_banner("error", f"Calibration failed: {exc}")
            return
        self.apply(baseline, rules)
        done = ("Your own slouch threshold is set" if self.slouch_step else
                "Calibrated: alerts now compare with your own neutral posture")
        try:
            self.store.save(Profile(self.person, camera["description"], baseline))
        except UserError as exc:  # a folder at the profiles path, a read-only folder
            self.window.show_banner("warn", f"{done} for now, but not saved: {exc}.")
            return
        if self.store.backup is not None:
            self.window.show_file_problem("warn", f"profiles file {self.store.path} held "
                                          "content that could not be kept in it; the file "
                                          f"as it was is kept as {self.store.backup}")
        self.window.show_banner("ok", f"{done} (profile '{self.person}').")

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
