"""Training and evaluation data as arrays: X (features), Y (labels), M (which labels are
known), groups (subject or source, for splits that never share a person).

Sources: synthetic poses, image folders by class, YOLO-pose spine keypoint sets, and
session CSVs written by `analyze --landmarks` with a clinician's `label` column. Every
source goes through the runtime's `measure` and `compute_features`.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from posture_monitor.core.classifier import REQUIRED_METRIC
from posture_monitor.core.definitions import SIDE_VIEWS
from posture_monitor.core.errors import UserError
from posture_monitor.core.features import N_FEATURES, compute_features
from posture_monitor.core.labels import (
    FORWARD_HEAD_CVA_DEG,
    LABEL_NAMES,
    TRUNK_EXTENSION_DEG,
    TRUNK_FLEXION_DEG,
    UPRIGHT,
    observable_in,
)
from posture_monitor.core.landmarks import INDEX, NAMES
from posture_monitor.core.metrics import measure
from posture_monitor.core.pose import Pose

# Folder / label-column names a clinician may use, mapped to label sets.
ALIASES = {
    "upright": (), "straight": (), "good": (), "neutral": (),
    "hunchback": ("trunk_flexion",), "slouch": ("trunk_flexion",),
    "slouched": ("trunk_flexion",), "recline": ("trunk_extension",),
    "reclined": ("trunk_extension",),
}
# Labels that exclude each other: naming one tells us the other is absent.
EXCLUSIVE = {"trunk_flexion": "trunk_extension", "trunk_extension": "trunk_flexion"}

ProgressFn = Callable[[int, int | None], None]


@dataclass
class Dataset:
    X: np.ndarray = field(default_factory=lambda: np.zeros((0, N_FEATURES), np.float32))
    Y: np.ndarray = field(default_factory=lambda: np.zeros((0, len(LABEL_NAMES)), np.float32))
    M: np.ndarray = field(default_factory=lambda: np.zeros((0, len(LABEL_NAMES)), np.float32))
    groups: list[str] = field(default_factory=list)
    sources: dict[str, int] = field(default_factory=dict)  # source name -> samples
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count

    def __len__(self) -> int:
        return len(self.X)

    def extend(self, other: Dataset) -> None:
        self.X = np.concatenate([self.X, other.X])
        self.Y = np.concatenate([self.Y, other.Y])
        self.M = np.concatenate([self.M, other.M])
        self.groups += other.groups
        for d_self, d_other in ((self.sources, other.sources), (self.skipped, other.skipped)):
            for k, v in d_other.items():
                d_self[k] = d_self.get(k, 0) + v

    def subset(self, idx: np.ndarray) -> Dataset:
        return Dataset(self.X[idx], self.Y[idx], self.M[idx],
                       [self.groups[i] for i in idx], dict(self.sources))


class _Builder:
    def __init__(self, source: str) -> None:
        self.source = source
        self.rows: list[tuple[np.ndarray, np.ndarray, np.ndarray, str]] = []
        self.skipped: dict[str, int] = {}

    def add(self, pose: Pose | None, width: int, height: int, labels: dict[str, bool | None],
            group: str) -> None:
        """`labels[name]` True/False when known, None (or absent) when unknown."""
        if pose is None:
            self.skip("no_pose")
            return
        m = measure(pose, width, height)
        if m.view not in SIDE_VIEWS and m.view != "front":
            self.skip(f"view_{m.view}")  # the runtime abstains there too
            return
        if m.values.get(REQUIRED_METRIC[m.view]) is None:
            self.skip("landmarks_untrusted")  # ...and there
            return
        seen = observable_in(m.values, m.view)
        y = np.array([float(bool(labels.get(n))) for n in LABEL_NAMES], np.float32)
        mask = np.array([float(seen[n] and labels.get(n) is not None) for n in LABEL_NAMES],
                        np.float32)
        if not mask.any():
            self.skip("no_observable_label")
            return
        self.rows.append((compute_features(pose, m, width, height), y, mask, group))

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def build(self) -> Dataset:
        if not self.rows:
            return Dataset(skipped=self.skipped, sources={self.source: 0})
        X, Y, M, G = zip(*self.rows, strict=True)
        return Dataset(np.stack(X), np.stack(Y), np.stack(M), list(G),
                       {self.source: len(X)}, self.skipped)


def synthetic(n: int, seed: int = 0, shift=None, progress: ProgressFn | None = None,
              name: str = "synthetic") -> Dataset:
    from posture_monitor.training.synthetic import generate

    b = _Builder(name)
    for i, s in enumerate(generate(n, seed=seed, shift=shift)):
        b.add(s.pose, s.width, s.height, dict(s.labels), f"syn{seed}-{s.subject}")
        if progress and (i + 1) % 200 == 0:
            progress(i + 1, n)
    return b.build()


def parse_label(name: str, where: str) -> dict[str, bool | None]:
    """'upright', a label name, an alias, or labels joined by '+' -> known labels."""
    key = name.strip().lower()
    if key in ALIASES:
        present = ALIASES[key]
        upright = key in ("upright", "straight", "good", "neutral")
    else:
        present = tuple(p for p in key.split("+") if p)
        unknown = [p for p in present if p not in LABEL_NAMES]
        if unknown or not present:
            valid = ", ".join((UPRIGHT, *LABEL_NAMES, *sorted(ALIASES)))
            raise UserError(f"{where}: unknown posture label {name!r} (use one of: {valid}; "
                            "join several with '+')")
        upright = False
    labels: dict[str, bool | None] = {n: (False if upright else None) for n in LABEL_NAMES}
    for p in present:
        labels[p] = True
        if p in EXCLUSIVE and labels[EXCLUSIVE[p]] is None:
            labels[EXCLUSIVE[p]] = False
    return labels


def _image_poses(paths: Iterable[Path], model: str):
    """(path, pose, width, height) for photos, through the runtime's pose pipeline."""
    from posture_monitor.core.pipeline import PosePipeline
    from posture_monitor.core.settings import AnalysisSettings
    from posture_monitor.core.sources import ImageFilesSource

    paths = list(paths)
    if not paths:
        return
    with PosePipeline(AnalysisSettings(model=model, classifier="none"), sequence=False) as pipe:
        for frame in ImageFilesSource(paths, "", "folder"):
            path = paths[frame.index]
            if frame.image is None:
                yield path, None, 0, 0
                continue
            h, w = frame.image.shape[:2]
            yield path, pipe.process(frame).pose, w, h


def image_folders(root: Path, model: str = "full") -> Dataset:
    """`root/<label>/*.jpg`: one folder per label, alias or 'a+b' combination."""
    from posture_monitor.core.sources import IMAGE_SUFFIXES

    if not root.is_dir():
        raise UserError(f"image folder not found: {root}")
    b = _Builder(f"images:{root.name}")
    folders = sorted(p for p in root.iterdir() if p.is_dir())
    if not folders:
        raise UserError(f"{root} holds no class folders (expected {root}/<label>/*.jpg)")
    for folder in folders:
        labels = parse_label(folder.name, str(folder))
        images = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        for path, pose, w, h in _image_poses(images, model):
            b.add(pose, w, h, labels, f"{root.name}/{folder.name}/{path.stem}")
    return b.build()


def labelled_photos(root: Path, model: str = "full") -> Dataset:
    """A folder of photos with `labels.csv` (columns file, posture), as in
    tests/fixtures/seated_side_mit. Rows whose posture is no label (e.g. kneeling) are
    left out and counted."""
    table = root / "labels.csv"
    if not table.is_file():
        raise UserError(f"{root} has no labels.csv (columns: file, posture)")
    b = _Builder(f"photos:{root.name}")
    with open(table, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    known = {}
    for r in rows:
        try:
            known[r["file"]] = parse_label(r["posture"], str(table))
        except UserError:
            b.skip(f"label_{r['posture']}")
    for path, pose, w, h in _image_poses([root / f for f in known], model):
        # Evaluation only (never split), so each photo is its own group and row name.
        b.add(pose, w, h, known[path.name], f"{root.name}/{path.stem}")
    return b.build()


# --- YOLO-pose spine keypoints -------------------------------------------------------
YOLO_KEYPOINTS = ("cervical", "thoracic", "lumbar", "sacral")
YOLO_TOLERANCE = 0.05  # coordinates up to 1.05 are known to occur and are clipped


def parse_yolo_label(path: Path) -> list[np.ndarray]:
    """Keypoints (4, 3: x, y, v) per person line; malformed lines raise with file:line."""
    people = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        where = f"{path}:{lineno}"
        if len(parts) != 5 + 3 * len(YOLO_KEYPOINTS):
            raise UserError(f"{where}: expected 17 numbers (class, box, 4 keypoints x y v), "
                            f"found {len(parts)}")
        try:
            values = [float(p) for p in parts]
        except ValueError:
            raise UserError(f"{where}: not a number in {line.strip()[:60]!r}") from None
        kp = np.array(values[5:]).reshape(len(YOLO_KEYPOINTS), 3)
        coords = np.concatenate([values[1:5], kp[:, :2].ravel()])
        if (coords < -YOLO_TOLERANCE).any() or (coords > 1 + YOLO_TOLERANCE).any():
            raise UserError(f"{where}: coordinates outside 0..1 (normalized YOLO labels)")
        kp[:, :2] = np.clip(kp[:, :2], 0.0, 1.0)
        people.append(kp)
    return people


def spine_reference(kp: np.ndarray, width: int, height: int, facing: float) -> dict:
    """Reference angles from annotated spine points: CVA from thoracic (about C7) to
    cervical (at the ear), trunk from sacral to thoracic; `facing` +1/-1 in image x."""
    px = kp[:, :2] * (width, height)
    c, t, s = px[0], px[1], px[3]
    cva = math.degrees(math.atan2(t[1] - c[1], (c[0] - t[0]) * facing))
    trunk = math.degrees(math.atan2((t[0] - s[0]) * facing, s[1] - t[1]))
    return {"cva": cva, "trunk": trunk}


def yolo_pose(root: Path, model: str = "full") -> Dataset:
    """A YOLO-pose set (`images/<split>/*.jpg`, `labels/<split>/*.txt`), 4 spine points.

    Labels come from the annotated points (forward head, trunk flexion/extension); the
    features from MediaPipe on the same photo, which also tells which way the person faces
    (4 spine points cannot)."""
    label_files = sorted((root / "labels").rglob("*.txt")) if (root / "labels").is_dir() else []
    if not label_files:
        raise UserError(f"{root} has no labels/**/*.txt (YOLO-pose layout: images/, labels/)")
    from posture_monitor.core.sources import IMAGE_SUFFIXES

    pairs = []
    for lf in label_files:
        rel = lf.relative_to(root / "labels").with_suffix("")
        image = next((root / "images" / rel.with_suffix(sfx) for sfx in sorted(IMAGE_SUFFIXES)
                      if (root / "images" / rel.with_suffix(sfx)).is_file()), None)
        people = parse_yolo_label(lf)  # validate every file, even without an image
        if image is not None and len(people) == 1:
            pairs.append((image, people[0]))
    b = _Builder(f"yolo:{root.name}")
    by_image = dict(pairs)
    for path, pose, w, h in _image_poses([p for p, _ in pairs], model):
        if pose is None:
            b.skip("no_pose")
            continue
        facing = 1.0 if pose.image[INDEX["nose"], 0] >= pose.image[
            [INDEX["left_ear"], INDEX["right_ear"]], 0].mean() else -1.0
        ref = spine_reference(by_image[path], w, h, facing)
        labels = {n: None for n in LABEL_NAMES}
        labels["forward_head"] = ref["cva"] < FORWARD_HEAD_CVA_DEG
        labels["trunk_flexion"] = ref["trunk"] > TRUNK_FLEXION_DEG
        labels["trunk_extension"] = ref["trunk"] < TRUNK_EXTENSION_DEG
        b.add(pose, w, h, labels, f"{root.name}/{path.stem}")
    return b.build()


def session_csv(path: Path) -> Dataset:
    """A CSV from `analyze --landmarks` (with its JSON sidecar) plus a `label` column."""
    sidecar = path.with_suffix(".json")
    if not sidecar.is_file():
        raise UserError(f"{path}: its sidecar {sidecar.name} is missing (it holds the frame "
                        "size the landmarks need)")
    meta = json.loads(sidecar.read_text(encoding="utf-8"))
    width, height = int(meta["source"]["width"]), int(meta["source"]["height"])
    b = _Builder(f"session:{path.stem}")
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        cols = reader.fieldnames or []
        if "label" not in cols:
            raise UserError(f"{path}: no 'label' column (add one with a posture per frame)")
        if "nose_x" not in cols:
            raise UserError(f"{path}: no landmark columns (re-run analyze with --landmarks)")
        for lineno, row in enumerate(reader, 2):
            if not row["label"].strip():
                b.skip("unlabelled")
                continue
            labels = parse_label(row["label"], f"{path}:{lineno}")
            if row["pose_detected"] != "1":
                b.skip("no_pose")
                continue
            b.add(_pose_from_row(row, f"{path}:{lineno}"), width, height, labels, path.stem)
    return b.build()


def _pose_from_row(row: dict, where: str) -> Pose:
    """Rebuild a Pose from the landmark columns `analyze --landmarks` writes."""
    try:
        v = np.array([[float(row[f"{n}_{k}"]) for k in ("x", "y", "z", "vis", "pres", "wx",
                                                         "wy", "wz")] for n in NAMES])
    except (KeyError, ValueError):
        raise UserError(f"{where}: landmark columns missing or not numbers") from None
    return Pose(v[:, 0:3], v[:, 5:8], v[:, 3], v[:, 4])
