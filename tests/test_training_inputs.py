"""Training inputs a user hands in (YOLO-pose label sets, labels.csv photo sets, labelled
session CSVs): every problem is one line naming the file (and line) and the fix, or a
counted skip; never a traceback, never a silent loss (issue 11, findings 8 and 9)."""

import csv
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from posture_monitor.core.common.errors import UserError
from posture_monitor.core.records.recorder import LANDMARK_FIELDS, csv_columns
from posture_monitor.core.vision.landmarks import NAMES
from posture_monitor.training import datasets as ds
from tests.conftest import ROOT, SEATED

CLI = [sys.executable, "-m", "posture_monitor"]
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def _one_line(exc_info, *needles) -> str:
    msg = str(exc_info.value)
    assert "\n" not in msg and "\r" not in msg and len(msg) < 600, msg
    for needle in needles:
        assert needle in msg, msg
    return msg


def _yolo_line(points, box="0 0.5 0.5 0.4 0.8", v="2"):
    return box + " " + " ".join(f"{x} {y} {v}" for x, y in points)


GOOD = _yolo_line([(0.22, 0.30), (0.25, 0.40), (0.40, 0.5), (0.5, 0.6)])


# --- YOLO label files --------------------------------------------------------------------
def test_unreadable_yolo_label_files_are_one_line_errors(tmp_path):
    latin = tmp_path / "latin.txt"
    latin.write_bytes((GOOD + "\n").encode() + b"0 0.5 \xe9t\xe9\n")  # not UTF-8, line 2
    with pytest.raises(UserError) as e:
        ds.parse_yolo_label(latin)
    _one_line(e, f"{latin}:2", "UTF-8")
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    with pytest.raises(UserError) as e:
        ds.parse_yolo_label(folder)
    _one_line(e, str(folder), "folder")
    bom = tmp_path / "bom.txt"  # what Windows editors save: read as UTF-8
    bom.write_bytes(b"\xef\xbb\xbf" + GOOD.encode() + b"\r\n")
    assert len(ds.parse_yolo_label(bom)) == 1


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf", "1e999", "NaN"])
@pytest.mark.parametrize("where", ["keypoint", "box", "visibility"])
def test_yolo_non_finite_values_are_refused_with_file_and_line(tmp_path, bad, where):
    line = {"keypoint": _yolo_line([(0.22, bad), (0.25, 0.40), (0.40, 0.5), (0.5, 0.6)]),
            "box": _yolo_line([(0.2, 0.3)] * 4, box=f"0 0.5 {bad} 0.4 0.8"),
            "visibility": _yolo_line([(0.2, 0.3)] * 4, v=bad)}[where]
    path = tmp_path / "p.txt"
    path.write_text(GOOD + "\n" + line + "\n")
    with pytest.raises(UserError) as e:
        ds.parse_yolo_label(path)
    _one_line(e, f"{path}:2", "finite")


def _yolo_set(root, labels: dict[str, str], images: list[str]):
    (root / "images" / "train").mkdir(parents=True)
    (root / "labels" / "train").mkdir(parents=True)
    for name in images:
        shutil.copy(SEATED / "hunchback.jpg", root / "images" / "train" / name)
    for name, text in labels.items():
        (root / "labels" / "train" / name).write_text(text)


def test_bad_yolo_set_on_the_command_line_is_one_line_exit_2(tmp_path):
    root = tmp_path / "set"
    _yolo_set(root, {"p1.txt": GOOD + "\n"}, ["p1.jpg"])
    (root / "labels" / "train" / "p2.txt").write_bytes(b"\xff\xfe0\x00 \x00")  # UTF-16
    proc = subprocess.run([*CLI, "train", "--yolo", str(root), "--out", str(tmp_path / "m")],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 2, proc.stderr
    err = proc.stderr.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert "p2.txt:1" in err and "UTF-8" in err
    (root / "labels" / "train" / "p2.txt").unlink()
    (root / "labels" / "train" / "p3.txt").mkdir()
    proc = subprocess.run([*CLI, "train", "--yolo", str(root), "--out", str(tmp_path / "m")],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "p3.txt" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_yolo_set_counts_empty_orphan_and_crowded_label_files(tmp_path):
    root = tmp_path / "set"
    _yolo_set(root, {"p1.txt": GOOD + "\n", "blank.txt": "\n  \n", "empty.txt": "",
                     "orphan.txt": GOOD + "\n", "two.txt": f"{GOOD}\n{GOOD}\n"},
              ["p1.jpg", "blank.jpg", "empty.jpg", "two.jpg", "unlabelled.jpg"])
    data = ds.yolo_pose(root, model="lite")
    assert len(data) == 1
    assert data.skipped == {"empty_label_file": 2, "label_file_without_image": 1,
                            "label_file_several_people": 1, "image_without_label_file": 1}


# --- labels.csv (photo sets: --real-eval DIR, evaluate DIR) -----------------------------
def _photos(root, names=("straight_hf.jpg", "hunchback.jpg")):
    root.mkdir(exist_ok=True)
    for name in names:
        shutil.copy(SEATED / name, root / name)


def test_labels_csv_saved_by_a_spreadsheet_with_a_bom(tmp_path):
    _photos(tmp_path)
    (tmp_path / "labels.csv").write_text("file,posture\r\nstraight_hf.jpg,upright\r\n"
                                         "hunchback.jpg,hunchback\r\n", encoding="utf-8-sig")
    data = ds.labelled_photos(tmp_path, model="lite")
    assert len(data) == 2 and not data.skipped


@pytest.mark.parametrize("content, needles", [
    ("file,posture\nstraight_hf.jpg,upright\nhunchback.jpg,bossu\u00e9\n".encode("cp1252"),
     ["labels.csv:3", "UTF-8"]),
    (b"name,label\nstraight_hf.jpg,upright\n", ["labels.csv", "file", "posture"]),
    (b"file,posture\nstraight_hf.jpg,upright\nmissing.jpg,upright\n",
     ["labels.csv:3", "missing.jpg"]),
    (b"file,posture\nstraight_hf.jpg,upright\n/etc/hostname,upright\n", ["labels.csv:3"]),
    (b"file,posture\nstraight_hf.jpg\n", ["labels.csv:2", "posture"]),
    (b"file,posture\nstraight_hf.jpg,upright\nstraight_hf.jpg,hunchback\n",
     ["labels.csv:3", "line 2"]),
    (b"file,posture\n\"straight_hf.jpg,upright\n" + b"x" * 200_000 + b"\n", ["labels.csv"]),
])
def test_bad_labels_csv_is_one_line_naming_file_and_line(tmp_path, content, needles):
    _photos(tmp_path)
    (tmp_path / "labels.csv").write_bytes(content)
    with pytest.raises(UserError) as e:
        ds.labelled_photos(tmp_path, model="lite")
    _one_line(e, *needles)


def test_labels_csv_may_name_photos_in_subfolders(tmp_path):
    _photos(tmp_path / "side", ["straight_hf.jpg"])
    _photos(tmp_path / "more", ["straight_hf.jpg"])
    (tmp_path / "labels.csv").write_text("file,posture\nside/straight_hf.jpg,upright\n"
                                         "more/straight_hf.jpg,kneeling\n")
    rows, skipped = ds.photo_labels(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p, _ in rows] == ["side/straight_hf.jpg"]
    assert skipped == {"label_kneeling": 1}


# --- labelled session CSVs (--sessions) ------------------------------------------------
@pytest.fixture(scope="module")
def real_pose():
    ((_, pose, w, h),) = list(ds._image_poses([SEATED / "hunchback.jpg"], "lite"))
    return pose, w, h


def _session(tmp_path, real_pose, label="hunchback", encoding="utf-8", label_first=True,
             size=None):
    pose, w, h = real_pose
    cols = csv_columns(landmarks=True)
    cols = ["label", *cols] if label_first else [*cols, "label"]
    row = dict.fromkeys(cols, "")
    row |= {"frame": "0", "time_s": "0.000", "pose_detected": "1", "label": label}
    for i, n in enumerate(NAMES):
        values = (*pose.image[i], pose.visibility[i], pose.presence[i], *pose.world[i])
        row |= {f"{n}_{f}": f"{v:.5f}" for f, v in zip(LANDMARK_FIELDS, values, strict=True)}
    path = tmp_path / "s.csv"
    with open(path, "w", newline="", encoding=encoding) as fh:
        writer = csv.DictWriter(fh, fieldnames=cols)
        writer.writeheader()
        writer.writerow(row)
        writer.writerow(row | {"frame": "1", "label": ""})
    meta = {"source": {"width": w, "height": h}} if size is None else size
    (tmp_path / "s.json").write_text(json.dumps(meta))
    return path


def test_session_csv_saved_by_a_spreadsheet_with_a_bom(tmp_path, real_pose):
    data = ds.session_csv(_session(tmp_path, real_pose, encoding="utf-8-sig"))
    assert len(data) == 1 and data.skipped == {"unlabelled": 1}


def test_bad_session_csv_is_one_line_naming_file_and_line(tmp_path, real_pose):
    path = _session(tmp_path, real_pose, label="r\u00e9clin\u00e9", encoding="cp1252")
    with pytest.raises(UserError) as e:
        ds.session_csv(path)
    _one_line(e, "s.csv:2", "UTF-8")
    lines = _session(tmp_path, real_pose).read_text().splitlines()
    first = lines[1].split(",")
    at = lines[0].split(",").index("nose_x")
    first[at] = "nan"
    path.write_text("\n".join([lines[0], ",".join(first), lines[2]]) + "\n")
    with pytest.raises(UserError) as e:
        ds.session_csv(path)
    _one_line(e, "s.csv:2", "finite")
    path.write_text("\n".join([lines[0], lines[1][:40]]) + "\n")  # a row cut short
    with pytest.raises(UserError) as e:
        ds.session_csv(path)
    _one_line(e, "s.csv:2")
    for sidecar in (b"\xff\xfe{", b"{\"source\": {}}", b"[1, 2]", b"{\"source\": {\"width\": "
                    b"\"wide\", \"height\": 2}}"):
        _session(tmp_path, real_pose)
        (tmp_path / "s.json").write_bytes(sidecar)
        with pytest.raises(UserError) as e:
            ds.session_csv(path)
        _one_line(e, "s.json")


# --- fuzz: arbitrary bytes and lines never give a traceback or a hang -----------------------
TOKENS = st.sampled_from(["0", "1", "2", "0.5", "1.05", "1.06", "-0.05", "-0.2", "nan", "inf",
                          "-inf", "1e999", "1_0", "0x1", "", "\u0663", "\ufeff0", "\x00",
                          "é", "0.5\x0c0.5", "1e-320", "-0", "+.5", ".", "--1"])
NEARLY_VALID = st.lists(st.one_of(st.floats(-0.1, 1.1).map(repr), st.sampled_from(["0", "2"]),
                                  TOKENS), min_size=17, max_size=17).map(" ".join)
YOLO_LINES = st.lists(st.one_of(
    NEARLY_VALID,
    st.lists(TOKENS, min_size=0, max_size=20).map(" ".join),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=17,
             max_size=17).map(lambda v: " ".join(map(repr, v))),
    st.text(max_size=80)), max_size=6)
LINE_ENDS = st.sampled_from(["\n", "\r\n", "\r", "\u2028", "\x85"])


def _check_yolo(path):
    try:
        people = ds.parse_yolo_label(path)
    except UserError as exc:
        msg = str(exc)
        assert "\n" not in msg and "\r" not in msg and str(path) in msg
        return
    for kp in people:
        assert kp.shape == (4, 3) and np.isfinite(kp).all()
        assert (kp[:, :2] >= 0).all() and (kp[:, :2] <= 1).all()


@FUZZ
@given(data=st.binary(max_size=600))
def test_any_yolo_label_bytes_give_valid_keypoints_or_a_one_line_error(tmp_path, data):
    path = tmp_path / "fuzz.txt"
    path.write_bytes(data)
    _check_yolo(path)


@FUZZ
@given(lines=YOLO_LINES, end=LINE_ENDS, bom=st.booleans())
def test_any_yolo_label_lines_give_valid_keypoints_or_a_one_line_error(tmp_path, lines, end, bom):
    path = tmp_path / "fuzz.txt"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + end.join(lines).encode(
        "utf-8", "surrogatepass"))
    _check_yolo(path)


def _check_photo_labels(root):
    try:
        rows, skipped = ds.photo_labels(root)
    except UserError as exc:
        msg = str(exc)
        assert "\n" not in msg and "\r" not in msg and "labels.csv" in msg, msg
        return
    for path, labels in rows:
        assert path.is_file() and root.resolve() in path.resolve().parents
        assert set(labels) == set(ds.LABEL_NAMES)
    assert all(isinstance(n, int) and n > 0 for n in skipped.values())


@pytest.fixture
def photo_root(tmp_path):
    for name in ("a.jpg", "b c.jpg", "é.jpg"):
        (tmp_path / name).write_bytes(b"\xff\xd8 not a real photo: never decoded here")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.jpg").write_bytes(b"")
    return tmp_path


@FUZZ
@given(data=st.binary(max_size=600))
def test_any_labels_csv_bytes_give_photos_in_the_folder_or_a_one_line_error(photo_root, data):
    (photo_root / "labels.csv").write_bytes(data)
    _check_photo_labels(photo_root)


CELLS = st.one_of(st.sampled_from(["a.jpg", "b c.jpg", "é.jpg", "sub/d.jpg", "sub", ".", "..",
                                   "../a.jpg", "/etc/hostname", "", "upright", "hunchback",
                                   "kneeling", "forward_head+head_tilt", "+", "slouch",
                                   "A.JPG", " a.jpg", "sub\\d.jpg", "\x00"]), st.text(max_size=12))


@FUZZ
@given(header=st.lists(st.sampled_from(["file", "posture", "extra", "", "\ufefffile"]),
                       min_size=0, max_size=4),
       rows=st.lists(st.lists(CELLS, max_size=4), max_size=6),
       quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONE]),
       end=st.sampled_from(["\n", "\r\n", "\r"]))
def test_any_labels_csv_rows_give_photos_in_the_folder_or_a_one_line_error(
        photo_root, header, rows, quoting, end):
    with open(photo_root / "labels.csv", "w", newline="", encoding="utf-8",
              errors="surrogatepass") as fh:
        writer = csv.writer(fh, quoting=quoting, escapechar="\\", lineterminator=end)
        for row in [header, *rows]:
            try:
                writer.writerow(row)
            except csv.Error:  # what the csv module will not write, written by hand
                fh.write(",".join(row) + end)
    _check_photo_labels(photo_root)


def _check_session(path):
    try:
        data = ds.session_csv(path)
    except UserError as exc:
        msg = str(exc)
        assert "\n" not in msg and "\r" not in msg and path.stem in msg, msg
        return
    assert np.isfinite(data.X).all()


@FUZZ
@given(data=st.binary(max_size=600), sidecar=st.one_of(
    st.just(b'{"source": {"width": 720, "height": 1280}}'), st.binary(max_size=60)))
def test_any_session_csv_bytes_give_finite_features_or_a_one_line_error(tmp_path, data, sidecar):
    (tmp_path / "s.csv").write_bytes(data)
    (tmp_path / "s.json").write_bytes(sidecar)
    _check_session(tmp_path / "s.csv")


NUMBERS = st.one_of(st.floats(-2, 2), st.sampled_from(["nan", "inf", "", "x", "1e999", "0"]),
                    st.floats())


@FUZZ
@given(base=st.data(), label=st.one_of(st.sampled_from(["upright", "hunchback"]), CELLS),
       detected=st.sampled_from(["1", "1", "1", "0", "", "yes"]),
       width=st.sampled_from([720, 0, -5, 1]))
def test_any_session_csv_rows_give_finite_features_or_a_one_line_error(
        tmp_path, real_pose, base, label, detected, width):
    path = _session(tmp_path, real_pose, label=label,
                    size={"source": {"width": width, "height": 1280}})
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header, row = rows[0], rows[1]
    row[header.index("pose_detected")] = detected
    for _ in range(base.draw(st.integers(0, 6))):
        at = base.draw(st.integers(0, len(row) - 1))
        row[at] = str(base.draw(NUMBERS))
    cut = base.draw(st.integers(1, len(row)))
    with open(path, "w", newline="", encoding="utf-8", errors="surrogatepass") as fh:
        csv.writer(fh).writerows([header, row[:cut]])
    _check_session(path)
