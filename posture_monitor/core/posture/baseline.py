"""Personal baseline: a person's own neutral posture, captured once per camera set-up.

Population thresholds fit nobody exactly (a camera a little high shifts every angle), so
the app compares each frame with the person's own neutral posture instead. The baseline
only holds while the set-up holds: `setup_change` says when it no longer matches, so the
app asks to recalibrate rather than raising false alarms. Core module (no Qt).
"""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from posture_monitor.core.common.errors import CalibrationError, UserError
from posture_monitor.core.common.paths import data_home
from posture_monitor.core.common.private_files import (
    keep_damaged_copy,
    read_json,
    write_private_text,
)
from posture_monitor.core.measure.definitions import FRONTAL_VIEWS, METRIC_COLUMNS, SIDE_VIEWS
from posture_monitor.core.measure.person import person_position, person_scale

if TYPE_CHECKING:  # annotations only: the profile store need not load MediaPipe or cv2
    from posture_monitor.core.posture.pipeline import FrameResult

USABLE_VIEWS = SIDE_VIEWS | FRONTAL_VIEWS  # views that metrics are measured in
SCALE_TOLERANCE = 0.3  # relative change of `person_scale` that counts as nearer/farther
POSITION_TOLERANCE = 0.25  # shift of the mid-shoulder point, as a fraction of the frame
# Slouching itself moves the shoulders forward (about 0.23 of the frame width in the
# portrait test clip) and shrinks the nose-shoulder distance (about 11 %): the tolerances
# sit above that so a slouch is alarmed about, not mistaken for a new set-up.


@dataclass
class MetricStats:
    median: float
    spread: float  # robust SD: 1.4826 * median absolute deviation (0 when constant)
    n: int


def _stats(values: list[float]) -> MetricStats:
    # Median and MAD, not mean and SD: a glance away or one bad detection during the
    # few seconds of calibration must not drag the reference or inflate its spread.
    med = statistics.median(values)
    mad = statistics.median(abs(v - med) for v in values)
    return MetricStats(float(med), float(1.4826 * mad), len(values))


@dataclass
class Baseline:
    created: str  # ISO time (UTC)
    view: str  # the view the person was calibrated in (most frequent)
    metrics: dict[str, MetricStats]  # every metric measured in >= half of the usable frames
    scale: float  # median `person_scale`
    position: tuple[float, float]  # median mid-shoulder point, normalized 0..1
    camera: dict  # {"description": str, "width": int, "height": int}
    slouch: dict[str, float] | None = None  # two-point calibration: medians in a slouch

    def deviation(self, values: dict[str, float | None]) -> dict[str, float | None]:
        """value - neutral median per metric; None where either is missing."""
        columns = list(values) + [c for c in self.metrics if c not in values]
        out: dict[str, float | None] = {}
        for c in columns:
            v, ref = values.get(c), self.metrics.get(c)
            out[c] = None if v is None or ref is None else v - ref.median
        return out

    def personal_thresholds(self) -> dict[str, float]:
        """Two-point calibration: halfway between the neutral and the slouch median."""
        if not self.slouch:
            return {}
        return {c: (s.median + self.slouch[c]) / 2 for c, s in self.metrics.items()
                if self.slouch.get(c) is not None}

    def to_dict(self) -> dict:
        return asdict(self) | {"position": list(self.position)}

    @classmethod
    def from_dict(cls, d: dict) -> Baseline:
        """Raises KeyError/TypeError/ValueError on a malformed dict (the store catches it):
        numbers must be finite JSON numbers (not 10**400, NaN or text), texts texts, and the
        camera a flat record with the description, width and height `setup_change` reads."""
        camera = d["camera"]
        if not isinstance(camera, dict) or not {"description", "width", "height"} <= set(
                camera) or not all(isinstance(v, (str, int, float, type(None)))
                                   for v in camera.values()):
            raise ValueError("camera is not a record of description, width and height")
        x, y = d["position"]
        return cls(
            created=_text(d["created"]), view=_text(d["view"]),
            metrics={_text(k): MetricStats(_real(v["median"]), _real(v["spread"]),
                                           _count(v["n"]))
                     for k, v in d["metrics"].items()},
            scale=_real(d["scale"]),
            position=(_real(x), _real(y)),
            camera=dict(camera),
            slouch=None if d.get("slouch") is None
            else {_text(k): _real(v) for k, v in d["slouch"].items()},
        )


def _real(value: object) -> float:
    """A finite JSON number as a float; ValueError for anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{type(value).__name__} is not a number")
    try:
        number = float(value)
    except OverflowError:
        raise ValueError("number too large") from None
    if not math.isfinite(number):
        raise ValueError("number not finite")
    return number


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("not a count")
    return value


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{type(value).__name__} is not a text")
    return value


@dataclass
class _Sample:  # what a calibration keeps of a frame: never the image (MBs per frame)
    view: str
    values: dict[str, float | None]
    scale: float
    position: tuple[float, float]


class BaselineCollector:
    """Collects a guided capture (default 5 s) of the neutral posture from FrameResults."""

    def __init__(self, duration_s: float = 5.0, min_frames: int = 10) -> None:
        self.duration_s = duration_s
        self.min_frames = min_frames
        self._first_t: float | None = None
        self._last_t: float | None = None
        self._samples: list[_Sample] = []

    def add(self, result: FrameResult) -> None:
        """Take one frame; frames without a pose or in a view nothing is measured in are
        skipped, and so is everything after the capture window (it has a fixed length)."""
        m, pose, image = result.measurement, result.pose, result.frame.image
        if pose is None or image is None or m.view not in USABLE_VIEWS or self.done:
            return
        if self._first_t is None:
            self._first_t = result.frame.time_s
        self._last_t = result.frame.time_s
        h, w = image.shape[:2]
        self._samples.append(_Sample(m.view, dict(m.values), person_scale(pose, w, h),
                                     person_position(pose)))

    @property
    def usable_frames(self) -> int:
        return len(self._samples)

    def progress(self) -> float:
        """0..1 by stream time from the first to the latest usable frame (files work too)."""
        if self._first_t is None or self._last_t is None:
            return 0.0
        return min(max((self._last_t - self._first_t) / self.duration_s, 0.0), 1.0)

    @property
    def done(self) -> bool:
        return self.progress() >= 1.0

    def _summary(self) -> tuple[str, list[_Sample], dict[str, MetricStats]]:
        n = len(self._samples)
        if n < self.min_frames:
            raise UserError(f"only {n} usable frames: sit still, side-on or facing the "
                            "camera, fully in view, and calibrate again")
        # One view only: a turn in the middle must not blend side and front readings.
        view = Counter(s.view for s in self._samples).most_common(1)[0][0]
        samples = [s for s in self._samples if s.view == view]
        metrics = {}
        for c in METRIC_COLUMNS:
            vals = [v for s in samples if (v := s.values.get(c)) is not None]
            if vals and len(vals) >= n / 2:  # a metric seen now and then is no reference
                metrics[c] = _stats(vals)
        if not metrics:
            raise UserError("no posture angle could be measured: make sure head, shoulders "
                            "and hips are in view and lit, and calibrate again")
        return view, samples, metrics

    def baseline(self, camera: dict) -> Baseline:
        view, samples, metrics = self._summary()
        return Baseline(
            created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            view=view, metrics=metrics, scale=statistics.median(s.scale for s in samples),
            position=(statistics.median(s.position[0] for s in samples),
                      statistics.median(s.position[1] for s in samples)),
            camera={"description": str(camera.get("description", "")),
                    "width": int(camera.get("width", 0)),
                    "height": int(camera.get("height", 0))},
        )

    def slouch_medians(self) -> dict[str, float]:
        """Medians of a deliberate slouch: the second point of a two-point calibration."""
        return {c: s.median for c, s in self._summary()[2].items()}


def setup_change(baseline: Baseline, camera: dict, result: FrameResult) -> str | None:
    """A one-line reason when the set-up no longer matches the baseline, else None."""
    old = baseline.camera
    if camera.get("description") != old.get("description"):
        return (f"another camera ({camera.get('description')!r} instead of "
                f"{old.get('description')!r}): calibrate again")
    size, old_size = (camera.get("width"), camera.get("height")), (old["width"], old["height"])
    if size != old_size:
        return (f"another resolution ({size[0]}x{size[1]} instead of "
                f"{old_size[0]}x{old_size[1]}): calibrate again")
    if result.pose is None or result.frame.image is None:
        return None
    view = result.measurement.view
    # Oblique/back/unknown are passing moments (reaching, turning): nothing is measured
    # in them anyway, so only a steady other measurable view means a new set-up.
    if view in USABLE_VIEWS and view != baseline.view:
        return f"another view ({view} instead of {baseline.view}): calibrate again"
    h, w = result.frame.image.shape[:2]
    ratio = person_scale(result.pose, w, h) / max(baseline.scale, 1e-9)  # 0: hand-edited
    if abs(ratio - 1) > SCALE_TOLERANCE:
        where = "nearer to" if ratio > 1 else "farther from"
        return f"you are much {where} the camera (size x{ratio:.2f}): calibrate again"
    x, y = person_position(result.pose)
    shift = float(np.hypot(x - baseline.position[0], y - baseline.position[1]))
    if shift > POSITION_TOLERANCE:
        return f"you moved in the picture ({shift:.2f} of the frame): calibrate again"
    return None


def camera_info(source) -> dict:
    """What a baseline records of the camera set-up (a FrameSource: camera or file)."""
    return {"description": source.description, "width": source.width, "height": source.height}


class WindowCalibration:
    """The window's calibration over a stretch of stream time, for `analyze
    --baseline-from START:END`: the FrameResults from `start_s` (inclusive) to `end_s`
    (exclusive) go through the same BaselineCollector as Profile > Calibrate, so both give
    the same baseline for the same frames. Errors are CalibrationErrors naming the seconds
    and the fix."""

    def __init__(self, start_s: float, end_s: float, min_frames: int = 10) -> None:
        self.start_s, self.end_s = start_s, end_s
        self.collector = BaselineCollector(duration_s=end_s - start_s, min_frames=min_frames)

    def add(self, result: FrameResult) -> None:
        if self.start_s <= result.frame.time_s < self.end_s:
            self.collector.add(result)

    def passed(self, t: float) -> bool:
        return t >= self.end_s

    def baseline(self, camera: dict) -> Baseline:
        window = f"{self.start_s:g}-{self.end_s:g} s"
        n, need = self.collector.usable_frames, self.collector.min_frames
        if n < need:
            raise CalibrationError(
                f"only {n} usable frames in {window} (at least {need} needed): choose "
                "seconds where the person sits still, side-on or facing the camera, fully "
                "in view")
        try:
            return self.collector.baseline(camera)
        except UserError:
            raise CalibrationError(
                f"no posture measure could be taken in {window}: choose seconds where head "
                "and shoulders are in view and lit") from None


@dataclass
class Profile:
    person: str  # pseudonymous person id/name
    camera: str  # camera description the baseline belongs to
    baseline: Baseline | None = None


def profiles_path() -> Path:
    """In the data folder (core/common/paths.py: POSTURE_MONITOR_DATA_HOME moves it)."""
    return data_home() / "profiles.json"


class ProfileStore:
    """Profiles keyed by (person, camera) in one JSON file, written atomically, user-only.

    A bad file never raises on reading (any bytes, any JSON, a folder): what cannot be
    read is skipped with a one-line `warning`, and reading never changes the file. Before
    a save that would drop anything of the file (an unreadable file or profile, or content
    this version does not know) the file is copied to a timestamped backup beside it
    (`backup` names it), so nothing is silently lost.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else profiles_path()
        self.warning: str | None = None
        self.backup: Path | None = None  # the copy the last save (or keep_copy) kept

    def _read(self) -> tuple[list[Profile], bool]:
        """The profiles, and whether writing them back would keep all of the file."""
        self.warning = None
        try:
            data = read_json(self.path)
            entries = data["profiles"] if isinstance(data, dict) else None
            if not isinstance(entries, list):
                raise ValueError("no list of profiles")
        except FileNotFoundError:
            return [], True
        except (ValueError, KeyError) as exc:
            reason = exc if isinstance(exc, ValueError) else "no list of profiles"
            self.warning = (f"profiles file {self.path} is unreadable ({reason}); "
                            "starting without profiles")
            return [], False
        profiles, bad = [], 0
        for e in entries:
            try:
                b = e.get("baseline")
                profiles.append(Profile(_text(e["person"]), _text(e["camera"]),
                                        None if b is None else Baseline.from_dict(b)))
            except (AttributeError, KeyError, TypeError, ValueError, IndexError,
                    RecursionError):
                bad += 1  # one damaged entry should not cost the others
        if bad:
            self.warning = f"profiles file {self.path}: skipped {bad} unreadable profile(s)"
            return profiles, False
        try:
            return profiles, self._encode(profiles) == data
        except RecursionError:
            return profiles, False

    @staticmethod
    def _encode(profiles: list[Profile]) -> dict:
        return {"version": 1, "profiles": [
            {"person": p.person, "camera": p.camera,
             "baseline": None if p.baseline is None else p.baseline.to_dict()}
            for p in profiles]}

    def keep_copy(self) -> Path | None:
        """When the file holds anything a save would drop, copy it to a timestamped backup
        now (the window does so at start, to name the copy) and return it; else None.
        Repeated calls for the same content give the same copy. Raises OSError when no copy
        can be written."""
        _, lossless = self._read()
        if lossless or not self.path.is_file() or not self.path.read_bytes().strip():
            return None
        self.backup = keep_damaged_copy(self.path)
        return self.backup

    def list(self) -> list[Profile]:
        return self._read()[0]

    def get(self, person: str, camera: str) -> Profile | None:
        return next((p for p in self.list() if (p.person, p.camera) == (person, camera)), None)

    def save(self, profile: Profile) -> None:
        """Insert, or replace the profile with the same (person, camera). Raises UserError
        (one line) when the file cannot be written, or no backup of it could be kept."""
        profiles, lossless = self._read()
        key = (profile.person, profile.camera)
        self._write([p for p in profiles if (p.person, p.camera) != key] + [profile],
                    lossless)

    def delete(self, person: str, camera: str) -> None:
        profiles, lossless = self._read()
        self._write([p for p in profiles if (p.person, p.camera) != (person, camera)],
                    lossless)

    def _write(self, profiles: list[Profile], lossless: bool) -> None:
        if self.path.exists() and not self.path.is_file():
            raise UserError(f"profiles not saved: {self.path} is not a file (a folder?); "
                            "move it aside to keep profiles")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not lossless and self.path.read_bytes().strip():
                self.backup = keep_damaged_copy(self.path)  # before anything is dropped
            text = json.dumps(self._encode(profiles), indent=2) + "\n"
            write_private_text(self.path, text)
        except OSError as exc:
            raise UserError(f"profiles not saved to {self.path} "
                            f"({exc.strerror or exc.__class__.__name__})") from None
