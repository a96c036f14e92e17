"""Frame -> pose -> smoothing -> metrics: the one pipeline the CLI and the app both run."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from posture_monitor.core.capture.sources import Frame
from posture_monitor.core.classify.classifier import ABSTAIN, Classification, PostureClassifier
from posture_monitor.core.classify.labels import LABEL_NAMES
from posture_monitor.core.classify.scoring import SCORE_COLUMNS, ImbalanceScorer
from posture_monitor.core.common.settings import AnalysisSettings
from posture_monitor.core.measure.joint_angles import JointMeasurement, measure_joints
from posture_monitor.core.measure.metrics import Measurement, measure
from posture_monitor.core.measure.person import person_position, person_scale
from posture_monitor.core.posture.alerts import (
    BASELINE_RULES,
    AlertEngine,
    AlertUpdate,
    label_rules,
)
from posture_monitor.core.vision.model_files import ModelFile, resolve_pose_model
from posture_monitor.core.vision.people import PeopleTracker, Person, PersonChooser
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
        # Independent photos: each one scored on its own, no smoothing across them.
        tau = self.settings.score_time_constant_s if sequence else 1e-6
        self._scorer = ImbalanceScorer(time_constant_s=tau)
        self._estimator = PoseEstimator(self.model, video_mode=sequence,
                                        max_people=self.settings.people_sought)
        self._people = PeopleTracker() if sequence else None
        self._chooser = PersonChooser()
        self.baseline = None
        # Alerts need time: only for sequences (video, camera), never across photos.
        self.alerts = (AlertEngine(label_rules(self.label_thresholds()), self.settings.alerts)
                       if sequence else None)
        s = self.settings.smoothing
        # Smoothing only makes sense between consecutive moments of one scene.
        self._smooth = s.enabled and sequence
        self._image_filter = OneEuroFilter(s.min_cutoff_hz, s.beta, s.d_cutoff_hz)
        self._world_filter = OneEuroFilter(s.min_cutoff_hz, s.beta, s.d_cutoff_hz)
        self._last_pose_t: float | None = None
        self._measured_id: int | None = None
        self.measure_angles = self.angles_asked

    def process(self, frame: Frame) -> FrameResult:
        t0 = time.perf_counter()
        pose, people, person_id = None, (), None
        height, width = frame.image.shape[:2] if frame.image is not None else (1, 1)
        if frame.image is not None:
            found = self._estimator.estimate_all(frame.image, frame.time_s)
            if self._people is not None:
                self._people.aspect = width / height
                people = tuple(self._people.update(found, frame.time_s))
                chosen = self._chooser.choose(list(people))
                if chosen is not None:
                    if chosen.id != self._measured_id:
                        self._last_pose_t = None  # smoothing never mixes two people
                    pose, person_id = chosen.pose, chosen.id
                    self._measured_id = chosen.id
            elif found:
                pose = found[0]
        t1 = time.perf_counter()
        if pose is not None and self._smooth:
            pose = self._smoothed(pose, frame.time_s)
        measurement = measure(pose, width, height, self.settings.quality)
        if frame.image is None:
            measurement.flags = ["unreadable_image"]
        # Joint angles in the same view as the metrics, only when something reads them
        # (--angles, --mot, an exercise): posture monitoring does not pay their 0.5 ms.
        angles = (measure_joints(pose, width, height, measurement.view, self.settings.quality)
                  if self.measure_angles else JointMeasurement(flags=["not_measured"]))
        classification = ABSTAIN
        if self.classifier is not None:
            classification = self.classifier.classify(pose, measurement, width, height)
        scores = self._scorer.update(classification.probabilities, frame.time_s)
        alert = None
        if self.alerts is not None:
            present = (pose is not None and measurement.view != "unknown"
                       and self._is_calibrated_person(pose, width, height))
            alert = self.alerts.update(frame.time_s, present,
                                       self._alert_values(measurement, classification))
        t2 = time.perf_counter()
        return FrameResult(frame, pose, measurement, (t1 - t0) * 1e3, (t2 - t1) * 1e3,
                           classification, scores, alert, angles, people, person_id)

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
        if self.baseline is not None:
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
        if self.alerts is None:
            return
        if rules is None:
            rules = BASELINE_RULES if baseline is not None else label_rules(
                self.label_thresholds())
        self.alerts = AlertEngine(tuple(rules), self.settings.alerts)
        self.alerts.start_grace(t)

    def _smoothed(self, pose: Pose, t: float) -> Pose:
        gap = self.settings.smoothing.reset_after_gap_s
        if self._last_pose_t is None or t - self._last_pose_t > gap:
            self._image_filter.reset()
            self._world_filter.reset()
        self._last_pose_t = t
        return Pose(self._image_filter(pose.image, t), self._world_filter(pose.world, t),
                    pose.visibility, pose.presence)

    def close(self) -> None:
        self._estimator.close()

    def __enter__(self) -> PosePipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
