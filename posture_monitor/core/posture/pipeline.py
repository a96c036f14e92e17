"""Frame -> pose -> smoothing -> metrics: the one pipeline the CLI and the app both run."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from posture_monitor.core.capture.sources import Frame
from posture_monitor.core.classify.classifier import ABSTAIN, Classification, PostureClassifier
from posture_monitor.core.classify.labels import LABEL_NAMES
from posture_monitor.core.classify.scoring import SCORE_COLUMNS, ImbalanceScorer
from posture_monitor.core.common.settings import AnalysisSettings
from posture_monitor.core.measure.camera_tilt import CameraTilt
from posture_monitor.core.measure.joint_angles import JointMeasurement, measure_joints
from posture_monitor.core.measure.metrics import Measurement, measure
from posture_monitor.core.measure.person import person_position, person_scale
from posture_monitor.core.posture.alerts import (
    BASELINE_RULES,
    AlertEngine,
    AlertUpdate,
    label_rules,
)
from posture_monitor.core.posture.person_choice import PersonChooser
from posture_monitor.core.vision.model_files import ModelFile, resolve_pose_model
from posture_monitor.core.vision.people import PeopleTracker, Person
from posture_monitor.core.vision.pose import Pose, PoseEstimator
from posture_monitor.core.vision.smoothing import OneEuroFilter

# Beyond these (relative size, shift as a share of the frame) a pose is not the calibrated
# person at their desk. Wider than baseline.setup_change's tolerances: a slouch moves the
# shoulders about 0.23 of the frame in the real seated clip and must stay "present".
PERSON_SCALE_TOLERANCE = 0.6
PERSON_SHIFT_TOLERANCE = 0.35


@dataclass
class FrameResult:
    frame: Frame  # the frame the landmarks were computed on (the app draws on this one)
    pose: Pose | None  # smoothed when smoothing is on
    measurement: Measurement
    pose_ms: float
    metrics_ms: float  # smoothing, metrics, classifier and scores
    classification: Classification = field(default_factory=lambda: ABSTAIN)
    scores: dict[str, float | None] = field(
        default_factory=lambda: dict.fromkeys(SCORE_COLUMNS))
    alert: AlertUpdate | None = None  # None for independent photos
    angles: JointMeasurement = field(default_factory=JointMeasurement)
    # everyone found in the frame, numbered across frames (unsmoothed landmarks), and the
    # number of the one measured above
    people: tuple[Person, ...] = ()
    person_id: int | None = None
    # --all-people: every person's own result this frame (their own smoothing, scores
    # and alerts), this one's among them; empty otherwise
    everyone: tuple[FrameResult, ...] = ()


class _PersonState:
    """What one person's frames carry from one to the next: landmark smoothing, the
    imbalance scores and the alert engine. One per person, so none mixes two people."""

    def __init__(self, pipeline: PosePipeline) -> None:
        s = pipeline.settings.smoothing
        self.image_filter = OneEuroFilter(s.min_cutoff_hz, s.beta, s.d_cutoff_hz)
        self.world_filter = OneEuroFilter(s.min_cutoff_hz, s.beta, s.d_cutoff_hz)
        self.last_pose_t: float | None = None
        # Independent photos: each one scored on its own, no smoothing across them.
        tau = pipeline.settings.score_time_constant_s if pipeline.sequence else 1e-6
        self.scorer = ImbalanceScorer(time_constant_s=tau)
        self.alerts = pipeline.new_alert_engine()
        self.last_seen_t: float | None = None


class PosePipeline:
    """Stateful per stream (tracking and smoothing): one instance per source and thread."""

    def __init__(self, settings: AnalysisSettings | None = None, sequence: bool = True,
                 model: ModelFile | None = None) -> None:
        self.settings = settings or AnalysisSettings()
        self.model = model or resolve_pose_model(self.settings.model)
        self.sequence = sequence
        self.classifier = (None if self.settings.classifier == "none"
                           else PostureClassifier(self.settings.classifier,
                                                  self.settings.decision_threshold))
        self._estimator = PoseEstimator(self.model, video_mode=sequence,
                                        max_people=self.settings.people_sought)
        self._people = PeopleTracker() if sequence else None
        self._chooser = PersonChooser(self.settings.person)
        self.baseline = None
        # The stream's camera tilt (core/measure/camera_tilt.py), removed from the 3D
        # metrics that measure against the vertical; None: not estimated, and each frame
        # says camera_tilt:not_removed
        self.camera_tilt: CameraTilt | None = None
        self._rules = None  # the alert rules in force: the labels' until a baseline
        # Smoothing only makes sense between consecutive moments of one scene.
        self._smooth = self.settings.smoothing.enabled and sequence
        self._main = _PersonState(self)  # the measured person's
        self._everyone: dict[int, _PersonState] = {}  # --all-people: each person's
        self._measured_id: int | None = None
        self.measure_angles = self.angles_asked

    @property
    def alerts(self) -> AlertEngine | None:
        """The measured person's alert engine (None for independent photos)."""
        return self._main.alerts

    def new_alert_engine(self) -> AlertEngine | None:
        # Alerts need time: only for sequences (video, camera), never across photos.
        if not self.sequence:
            return None
        rules = self._rules or label_rules(self.label_thresholds())
        return AlertEngine(tuple(rules), self.settings.alerts)

    def process(self, frame: Frame) -> FrameResult:
        t0 = time.perf_counter()
        pose, people, chosen = None, (), None
        height, width = frame.image.shape[:2] if frame.image is not None else (1, 1)
        if frame.image is not None:
            found = self._estimator.estimate_all(frame.image, frame.time_s)
            if self._people is not None:
                self._people.aspect = width / height
                people = tuple(self._people.update(found, frame.time_s))
                near = self.baseline.position if self.baseline is not None else None
                chosen = self._chooser.choose(list(people), near)
                if chosen is not None:
                    if (chosen.id != self._measured_id and self._measured_id is not None
                            and self._estimator.max_people > 1):
                        # someone else is measured from now on: nothing of the previous
                        # person's smoothing, scores or alert state carries over
                        self._main = _PersonState(self)
                    pose = chosen.pose
                    self._measured_id = chosen.id
            elif found:
                pose = found[0]
        t1 = time.perf_counter()
        result = self._analyse(frame, pose, self._main, width, height)
        result.pose_ms, result.metrics_ms = (t1 - t0) * 1e3, (time.perf_counter() - t1) * 1e3
        result.people, result.person_id = people, chosen.id if chosen is not None else None
        if self.settings.all_people and people:
            result.everyone = self._analyse_everyone(frame, people, chosen, result,
                                                     width, height)
        return result

    def _analyse_everyone(self, frame: Frame, people: tuple[Person, ...],
                          chosen: Person | None, measured: FrameResult, width: int,
                          height: int) -> tuple[FrameResult, ...]:
        out = []
        for p in people:
            if chosen is not None and p.id == chosen.id:
                r = measured
            else:
                state = self._everyone.setdefault(p.id, _PersonState(self))
                r = self._analyse(frame, p.pose, state, width, height)
                r.people, r.person_id = people, p.id
            out.append(r)
        # a person gone for longer than the tracker remembers will not come back
        seen = {p.id for p in people}
        for pid in [k for k in self._everyone if k not in seen]:
            last = self._everyone[pid].last_seen_t
            if last is not None and frame.time_s - last > 2.0:
                del self._everyone[pid]
        for p in people:
            if p.id in self._everyone:
                self._everyone[p.id].last_seen_t = frame.time_s
        return tuple(out)

    def _analyse(self, frame: Frame, pose: Pose | None, state: _PersonState, width: int,
                 height: int) -> FrameResult:
        """One person's measurement of one frame, with that person's own state."""
        if pose is not None and self._smooth:
            pose = self._smoothed(pose, frame.time_s, state)
        measurement = measure(pose, width, height, self.settings.quality, self.camera_tilt)
        if frame.image is None:
            measurement.flags = ["unreadable_image"]
        # Joint angles in the same view as the metrics, only when something reads them
        # (--angles, --mot, an exercise): posture monitoring does not pay their 0.5 ms.
        angles = (measure_joints(pose, width, height, measurement.view, self.settings.quality)
                  if self.measure_angles else JointMeasurement(flags=["not_measured"]))
        classification = ABSTAIN
        if self.classifier is not None:
            classification = self.classifier.classify(pose, measurement, width, height)
        scores = state.scorer.update(classification.probabilities, frame.time_s)
        alert = None
        if state.alerts is not None:
            present = (pose is not None and measurement.view != "unknown"
                       and self._is_calibrated_person(pose, width, height))
            alert = state.alerts.update(frame.time_s, present,
                                        self._alert_values(measurement, classification))
        return FrameResult(frame, pose, measurement, 0.0, 0.0, classification, scores,
                           alert, angles)

    def choose_person(self, rule: str | int) -> None:
        """Whom to measure from the next frame on (the window's click on a person):
        'auto', 'largest' or a person number (core/posture/person_choice.py). Call it on
        the thread that runs the pipeline."""
        self._chooser = PersonChooser(rule)

    @property
    def people_sought(self) -> int:
        return self._estimator.max_people

    def seek_people(self, n: int) -> None:
        """Look for `n` people from the next frame on (the window's gait mode: the walker
        may not be the first person found). Rebuilds the estimator: call it on the thread
        that runs the pipeline; a no-op when `n` people are sought already."""
        if max(1, int(n)) == self._estimator.max_people:
            return
        estimator = PoseEstimator(self.model, video_mode=self.sequence, max_people=n)
        self._estimator, old = estimator, self._estimator
        old.close()

    @property
    def angles_asked(self) -> bool:
        """The settings ask for joint angles (--angles, --mot or an exercise)."""
        s = self.settings
        return s.angles or s.mot or bool(s.exercise.name)

    def _alert_values(self, m: Measurement, c: Classification) -> dict[str, float | None]:
        values: dict[str, float | None] = dict(m.values)
        values.update({f"p_{k}": v for k, v in c.probabilities.items()})
        # deviations from the baseline only in the view it was taken in: 3D values read
        # in every view, but a turn to an oblique view is not a change of posture
        if self.baseline is not None and m.view == self.baseline.view:
            values.update({f"dev_{k}": v for k, v in self.baseline.deviation(m.values).items()})
        return values

    def _is_calibrated_person(self, pose: Pose, width: int, height: int) -> bool:
        """With a baseline, someone much bigger or elsewhere in the frame is not the person
        at the desk: a passer-by in front of the camera, or the user standing up. Such
        frames count as 'not present' (away after a few seconds), never as slouching."""
        if self.baseline is None:
            return True
        scale = person_scale(pose, width, height)
        x, y = person_position(pose)
        bx, by = self.baseline.position
        return (abs(scale / self.baseline.scale - 1.0) <= PERSON_SCALE_TOLERANCE
                and abs(x - bx) <= PERSON_SHIFT_TOLERANCE
                and abs(y - by) <= PERSON_SHIFT_TOLERANCE)

    def label_thresholds(self) -> dict[str, float] | float:
        """The probability above which each label counts: the classifier's own per-label
        thresholds (its .json), or the user's one value in their place (the classifier
        applies the same override, so labels and label alerts agree)."""
        if self.classifier is not None:
            return dict(zip(LABEL_NAMES, map(float, self.classifier.thresholds), strict=True))
        return self.settings.decision_threshold or 0.5

    def set_baseline(self, baseline, t: float, rules=None) -> None:
        """Alert on deviations from this person's baseline (None: back to the classifier's
        labels); starts the grace period after calibration."""
        self.baseline = baseline
        if not self.sequence:
            return
        if rules is None:
            rules = BASELINE_RULES if baseline is not None else label_rules(
                self.label_thresholds())
        self._rules = tuple(rules)
        for state in (self._main, *self._everyone.values()):
            state.alerts = self.new_alert_engine()
            state.alerts.start_grace(t)

    def _smoothed(self, pose: Pose, t: float, state: _PersonState) -> Pose:
        gap = self.settings.smoothing.reset_after_gap_s
        if state.last_pose_t is None or t - state.last_pose_t > gap:
            state.image_filter.reset()
            state.world_filter.reset()
        state.last_pose_t = t
        return Pose(state.image_filter(pose.image, t), state.world_filter(pose.world, t),
                    pose.visibility, pose.presence)

    def close(self) -> None:
        self._estimator.close()

    def __enter__(self) -> PosePipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
