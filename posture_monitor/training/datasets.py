"""Training and evaluation data as arrays: X (features), Y (labels), M (which labels are
known), groups (subject or source, for splits that never share a person).

Sources: synthetic poses, image folders by class, YOLO-pose spine keypoint sets, and
session CSVs written by `analyze --landmarks` with a clinician's `label` column. Every
source goes through the runtime's `measure` and `compute_features`.
"""

from __future__ import annotations

import codecs
import csv
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePath

import numpy as np

from posture_monitor.core.classify.classifier import REQUIRED_METRIC
from posture_monitor.core.classify.features import N_FEATURES, compute_features
from posture_monitor.core.classify.labels import (
    FORWARD_HEAD_CVA_DEG,
    LABEL_NAMES,
    TRUNK_EXTENSION_DEG,
    TRUNK_FLEXION_DEG,
    UPRIGHT,
    observable_in,
)
from posture_monitor.core.common.errors import UserError
from posture_monitor.core.measure.definitions import SIDE_VIEWS
from posture_monitor.core.measure.metrics import measure
from posture_monitor.core.records.recorder import pose_from_row
from posture_monitor.core.vision.landmarks import INDEX
from posture_monitor.core.vision.pose import Pose

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
        features = compute_features(pose, m, width, height)
        if not np.isfinite(features).all():
            self.skip("features_not_finite")  # absurd landmark values: no training sample
            return
        self.rows.append((features, y, mask, group))

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


# --- reading the files a user hands in -------------------------------------------------
# Every problem is one line naming the file (and line) and the fix: a UserError.
UTF8_FIX = "save it as UTF-8 text (in a spreadsheet: 'CSV UTF-8')"


def _not_utf8(path: Path, fix: str = UTF8_FIX) -> UserError:
    """The error for a file that is not UTF-8, naming its first bad line (a newline byte
    is never part of a multi-byte UTF-8 character, so lines can be checked one by one)."""
    with open(path, "rb") as fh:
        head = fh.read(2)
        if head in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            return UserError(f"{path}:1: UTF-16 text, not UTF-8: {fix}")
        fh.seek(0)
        for lineno, raw in enumerate(fh, 1):
            try:
                raw.removeprefix(codecs.BOM_UTF8 if lineno == 1 else b"").decode("utf-8")
            except UnicodeDecodeError as exc:
                return UserError(f"{path}:{lineno}: not UTF-8 text (byte "
                                 f"0x{raw[exc.start]:02x}): {fix}")
    return UserError(f"{path}: not UTF-8 text: {fix}")


def _check_file(path: Path, what: str) -> None:
    if path.is_dir():
        raise UserError(f"{path} is a folder, not {what}: rename or remove it")


def _read_text(path: Path, what: str) -> str:
    """A small text file: UTF-8, a byte order mark allowed (what Windows editors and
    spreadsheets write)."""
    _check_file(path, what)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"{path}: cannot read {what} ({exc.strerror or type(exc).__name__}): "
                        "check the file is there and readable") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _not_utf8(path) from None


def _csv_rows(path: Path, what: str) -> Iterator[tuple[int, dict | list[str]]]:
    """(line, row) of a CSV: first (0, its column names, stripped, in lower case), then each
    row as a dict (a missing cell is None). UTF-8, a byte order mark allowed (what
    spreadsheets save); comma-separated."""
    _check_file(path, what)
    try:
        fh = open(path, newline="", encoding="utf-8-sig")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise UserError(f"{path}: cannot read {what} ({exc.strerror or type(exc).__name__}): "
                        "check the file is there and readable") from None
    with fh:
        reader = csv.reader(fh)
        line = 1
        try:
            header = [c.strip().lower() for c in next(reader, [])]
            yield 0, header
            for cells in reader:
                line = reader.line_num
                if not any(c.strip() for c in cells):
                    continue  # an empty line
                row: dict[str, str | None] = dict.fromkeys(header)
                row.update(zip(header, cells, strict=False))
                yield line, row
        except UnicodeDecodeError:
            raise _not_utf8(path) from None
        except csv.Error as exc:
            reason = str(exc).splitlines()[0][:80] if str(exc) else "csv.Error"
            raise UserError(f"{path}:{reader.line_num or line}: not a readable CSV ({reason}): "
                            f"save {what} again as comma-separated values") from None


def _shown(text: str, n: int = 40) -> str:
    """A user's text inside a message: quoted, escaped, cut to n characters."""
    return repr(text[:n] + ("..." if len(text) > n else ""))


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
            raise UserError(f"{where}: unknown posture label {_shown(name)} (use one of: {valid}; "
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
    from posture_monitor.core.capture.sources import ImageFilesSource
    from posture_monitor.core.common.settings import AnalysisSettings
    from posture_monitor.core.posture.pipeline import PosePipeline

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
    from posture_monitor.core.capture.sources import IMAGE_SUFFIXES

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


def photo_labels(root: Path) -> tuple[list[tuple[Path, dict[str, bool | None]]],
                                         dict[str, int]]:
    """`root/labels.csv` (columns file, posture; a photo in `root` or a subfolder of it per
    row) -> (photo, known labels) and the rows left out by reason: a posture that is no
    label (e.g. kneeling: `label_kneeling`) or none (`unlabelled`)."""
    table = root / "labels.csv"
    if not (table.is_file() or table.is_dir()):
        raise UserError(f"{root} has no labels.csv (columns: file, posture)")
    rows: list[tuple[Path, dict[str, bool | None]]] = []
    skipped: dict[str, int] = {}
    first_line: dict[str, int] = {}
    for line, r in _csv_rows(table, "labels.csv"):
        if line == 0:
            missing = [c for c in ("file", "posture") if c not in r]
            if missing:
                raise UserError(f"{table}:1: no {' or '.join(missing)} column (found "
                                f"{_shown(','.join(r), 60)}): the first row must name the "
                                "columns file,posture")
            continue
        assert isinstance(r, dict)
        name, posture = (r["file"] or "").strip(), r["posture"]
        where = f"{table}:{line}"
        if posture is None:
            raise UserError(f"{where}: no posture cell: write file,posture on each row")
        rel = PurePath(name.replace("\\", "/"))
        if not name or "\x00" in name or rel.anchor or ".." in rel.parts:
            raise UserError(f"{where}: {_shown(name)} is no photo file name: name a photo in "
                            f"{root} (subfolders with /)")
        key = rel.as_posix()
        if key in first_line:
            raise UserError(f"{where}: {_shown(name)} is listed again (first on line "
                            f"{first_line[key]}): keep one row per photo")
        first_line[key] = line
        if not posture.strip():
            skipped["unlabelled"] = skipped.get("unlabelled", 0) + 1
            continue
        try:
            labels = parse_label(posture, where)
        except UserError:
            reason = f"label_{posture.strip().lower()[:40]}"
            skipped[reason] = skipped.get(reason, 0) + 1
            continue
        photo = root / rel
        if not photo.is_file():
            raise UserError(f"{where}: photo {_shown(name)} not found in {root}: fix the "
                            "name or remove the row")
        rows.append((photo, labels))
    return rows, skipped


def labelled_photos(root: Path, model: str = "full") -> Dataset:
    """A folder of photos with `labels.csv` (columns file, posture), as in
    tests/fixtures/seated_side_mit. Rows whose posture is no label (e.g. kneeling) are
    left out and counted."""
    rows, skipped = photo_labels(root)
    b = _Builder(f"photos:{root.name}")
    b.skipped.update(skipped)
    poses = _image_poses([photo for photo, _ in rows], model)
    for (photo, labels), (_, pose, w, h) in zip(rows, poses, strict=True):
        # Evaluation only (never split), so each photo is its own group and row name.
        name = photo.relative_to(root).with_suffix("").as_posix()
        b.add(pose, w, h, labels, f"{root.name}/{name}")
    return b.build()


# --- YOLO-pose spine keypoints -------------------------------------------------------
YOLO_KEYPOINTS = ("cervical", "thoracic", "lumbar", "sacral")
YOLO_TOLERANCE = 0.05  # coordinates up to 1.05 are known to occur and are clipped


def parse_yolo_label(path: Path) -> list[np.ndarray]:
    """Keypoints (4, 3: x, y, v) per person line; a file that cannot be read or a malformed
    line raises a one-line UserError with file:line and the fix."""
    people = []
    # Lines as an editor counts them (\n, \r\n or \r), not str.splitlines' extra breaks.
    lines = re.split(r"\r\n|\r|\n", _read_text(path, "a YOLO label file"))
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        parts = line.split()
        where = f"{path}:{lineno}"
        if len(parts) != 5 + 3 * len(YOLO_KEYPOINTS):
            raise UserError(f"{where}: expected 17 numbers (class, box, 4 keypoints x y v), "
                            f"found {len(parts)}: one person per line")
        values = []
        for part in parts:
            try:
                value = float(part)
            except ValueError:
                raise UserError(f"{where}: not a number: {_shown(part, 20)} (YOLO labels are "
                                "plain numbers such as 0.42)") from None
            if not math.isfinite(value):
                raise UserError(f"{where}: {_shown(part, 20)} is not a finite number: "
                                "annotate the point or leave the person out")
            values.append(value)
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
    from posture_monitor.core.capture.sources import IMAGE_SUFFIXES

    b = _Builder(f"yolo:{root.name}")
    pairs = []
    labelled = set()
    for lf in label_files:
        rel = lf.relative_to(root / "labels").with_suffix("")
        labelled.add(rel)
        image = next((root / "images" / rel.with_suffix(sfx) for sfx in sorted(IMAGE_SUFFIXES)
                      if (root / "images" / rel.with_suffix(sfx)).is_file()), None)
        people = parse_yolo_label(lf)  # validate every file, even without an image
        # Left out, and counted in the training summary: no file is dropped unseen.
        if not people:
            b.skip("empty_label_file")
        elif image is None:
            b.skip("label_file_without_image")
        elif len(people) > 1:
            b.skip("label_file_several_people")  # which person is the photo's subject?
        else:
            pairs.append((image, people[0]))
    if (root / "images").is_dir():
        for image in (root / "images").rglob("*"):
            if image.suffix.lower() in IMAGE_SUFFIXES and image.is_file() and \
                    image.relative_to(root / "images").with_suffix("") not in labelled:
                b.skip("image_without_label_file")
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
    if not (sidecar.is_file() or sidecar.is_dir()):
        raise UserError(f"{path}: its sidecar {sidecar.name} is missing (it holds the frame "
                        "size the landmarks need)")
    width, height = _frame_size(sidecar)
    b = _Builder(f"session:{path.stem}")
    for line, row in _csv_rows(path, "the session CSV"):
        if line == 0:
            if "label" not in row:
                raise UserError(f"{path}: no 'label' column (add one with a posture per "
                                "frame)")
            if "nose_x" not in row:
                raise UserError(f"{path}: no landmark columns (re-run analyze with "
                                "--landmarks)")
            continue
        assert isinstance(row, dict)
        if not (row["label"] or "").strip():
            b.skip("unlabelled")
            continue
        labels = parse_label(row["label"], f"{path}:{line}")
        if row.get("pose_detected") != "1":
            b.skip("no_pose")
            continue
        b.add(_pose_from_row(row, f"{path}:{line}"), width, height, labels, path.stem)
    return b.build()


def _frame_size(sidecar: Path) -> tuple[int, int]:
    """The frame size (pixels) in the JSON sidecar `analyze` writes beside its CSV."""
    fix = "use the .json that analyze wrote beside the CSV"
    try:
        meta = json.loads(_read_text(sidecar, "a JSON sidecar"))
    except ValueError as exc:
        reason = f"{exc.msg} at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) \
            else type(exc).__name__
        raise UserError(f"{sidecar}: not valid JSON ({reason}): {fix}") from None
    try:
        size = meta["source"]["width"], meta["source"]["height"]
        width, height = (int(v) for v in size)
        if any(isinstance(v, bool) or v != int(v) for v in size) or width < 1 or height < 1:
            raise ValueError
    except (KeyError, TypeError, ValueError, OverflowError):
        raise UserError(f"{sidecar}: no frame size (source: width, height in pixels): "
                        f"{fix}") from None
    return width, height


def _pose_from_row(row: dict, where: str) -> Pose:
    """Rebuild a Pose from the landmark columns `analyze --landmarks` writes; a bad row is a
    one-line error naming the file, line and fix."""
    try:
        return pose_from_row(row)
    except ValueError as exc:
        raise UserError(f"{where}: {exc} (re-run analyze with --landmarks, or leave this "
                        "row's label empty)") from None
