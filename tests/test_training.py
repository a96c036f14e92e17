"""Training module: a tiny real training run, the data sources, the synthetic generator."""

import csv
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from posture_monitor.core.classifier import PostureClassifier
from posture_monitor.core.errors import UserError
from posture_monitor.core.labels import LABEL_NAMES, labels_from_angles
from posture_monitor.core.metrics import measure
from posture_monitor.training import datasets as ds
from posture_monitor.training.synthetic import generate
from tests.conftest import ROOT, SEATED, read_rows

CLI = [sys.executable, "-m", "posture_monitor"]


@pytest.mark.slow
def test_tiny_training_run_produces_loadable_int8_model_and_report(tmp_path):
    out = tmp_path / "model"
    proc = subprocess.run([*CLI, "train", "--synthetic", "2500", "--epochs", "3",
                           "--shift-samples", "150", "--real-eval", str(SEATED),
                           "--out", str(out), "--quiet"],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    clf = PostureClassifier(out / "posture_classifier.tflite")
    assert clf.int8 and (out / "posture_classifier.tflite").stat().st_size <= 64 * 1024
    meta = json.loads((out / "posture_classifier.json").read_text())
    assert meta["training"]["epochs_run"] <= 3 and meta["training"]["seed"] == 0
    assert meta["training"]["sources"]["synthetic"] > 1000
    agree = meta["evaluation"]["float_vs_int8"]["label_agreement"]
    assert 0.9 <= agree <= 1.0
    report = (out / "EVALUATION.md").read_text()
    for section in ("Float vs int8", "Distribution shift", "landmark_noise_x3",
                    "hips_hidden_by_desk", "Real photos never trained on", "seated_side_mit"):
        assert section in report
    card = (out / "MODEL_CARD.md").read_text()
    assert "Not a diagnosis" in card and "synthetic" in card
    png = out / "evaluation" / "confusion_validation.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    numbers = json.loads((out / "evaluation" / "evaluation.json").read_text())
    assert set(numbers["validation_int8"]["labels"]) == set(LABEL_NAMES)


def test_evaluate_command_on_real_photos():
    proc = subprocess.run([*CLI, "evaluate", "--model", "models/posture_classifier.tflite",
                           str(SEATED)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "| trunk_flexion | 11 | 4 | 1.000 | 1.000 |" in proc.stdout


def test_synthetic_generator_is_deterministic_and_labels_follow_the_table():
    a, b = generate(60, seed=7), generate(60, seed=7)
    assert all(np.array_equal(x.pose.image, y.pose.image) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0].pose.image, generate(1, seed=8)[0].pose.image)
    for s in a:
        assert s.labels == labels_from_angles(**s.truth)


def test_synthetic_side_views_measure_their_true_trunk_angle():
    errors = []
    for s in generate(1500, seed=3):
        m = measure(s.pose, s.width, s.height)
        if m.view in ("left", "right") and m.values["torso_incl_deg"] is not None:
            errors.append(m.values["torso_incl_deg"] - s.truth["trunk"])
    assert len(errors) > 150
    assert abs(np.median(errors)) < 2.0 and np.median(np.abs(errors)) < 6.0


def test_parse_label_names_and_aliases():
    assert ds.parse_label("hunchback", "x")["trunk_flexion"] is True
    assert ds.parse_label("hunchback", "x")["trunk_extension"] is False  # exclusive
    assert ds.parse_label("hunchback", "x")["head_tilt"] is None  # unknown, not "no"
    assert all(v is False for v in ds.parse_label("upright", "x").values())
    both = ds.parse_label("forward_head+head_tilt", "x")
    assert both["forward_head"] and both["head_tilt"]
    with pytest.raises(UserError, match="here.txt:3: unknown posture label 'sitting'"):
        ds.parse_label("sitting", "here.txt:3")


def _yolo_line(points, box="0 0.5 0.5 0.4 0.8"):
    return box + " " + " ".join(f"{x} {y} 2" for x, y in points)


def test_yolo_labels_tolerate_slightly_out_of_range_and_reject_malformed(tmp_path):
    good = tmp_path / "a.txt"
    good.write_text(_yolo_line([(0.5, 0.2), (0.52, 0.3), (0.5, 0.5), (1.03, 0.7)]) + "\n")
    (kp,) = ds.parse_yolo_label(good)
    assert kp.shape == (4, 3) and kp[3, 0] == 1.0  # 1.03 clipped, not rejected
    bad = tmp_path / "b.txt"
    bad.write_text(_yolo_line([(0.5, 0.2)] * 4) + "\n0 0.5 0.5 0.4\n")
    with pytest.raises(UserError, match=r"b\.txt:2: expected 17 numbers"):
        ds.parse_yolo_label(bad)
    far = tmp_path / "c.txt"
    far.write_text(_yolo_line([(0.5, 0.2), (0.5, 1.4), (0.5, 0.5), (0.5, 0.7)]))
    with pytest.raises(UserError, match=r"c\.txt:1: coordinates outside"):
        ds.parse_yolo_label(far)
    nan = tmp_path / "d.txt"
    nan.write_text(_yolo_line([(0.5, 0.2)] * 4).replace("0.2", "x", 1))
    with pytest.raises(UserError, match=r"d\.txt:1: not a number"):
        ds.parse_yolo_label(nan)


def test_yolo_dataset_derives_trunk_labels_from_spine_points(tmp_path):
    root = tmp_path / "kaggle"
    (root / "images" / "train").mkdir(parents=True)
    (root / "labels" / "train").mkdir(parents=True)
    # hunchback.jpg faces image-left: a thoracic point well left of the sacral one is
    # forward flexion (~35 deg in its 720x1280 frame).
    shutil.copy(SEATED / "hunchback.jpg", root / "images" / "train" / "p1.jpg")
    (root / "labels" / "train" / "p1.txt").write_text(
        _yolo_line([(0.22, 0.30), (0.25, 0.40), (0.40, 0.5), (0.5, 0.6)]))
    data = ds.yolo_pose(root, model="lite")
    assert len(data) == 1
    i_flex, i_ext = LABEL_NAMES.index("trunk_flexion"), LABEL_NAMES.index("trunk_extension")
    assert data.Y[0, i_flex] == 1 and data.Y[0, i_ext] == 0 and data.M[0, i_flex] == 1
    assert data.M[0, LABEL_NAMES.index("head_tilt")] == 0  # a side photo cannot tell


def test_image_folders_by_class(tmp_path):
    for label, files in (("hunchback", ["hunchback.jpg"]), ("upright", ["straight_hf.jpg"])):
        (tmp_path / label).mkdir()
        for f in files:
            shutil.copy(SEATED / f, tmp_path / label / f)
    data = ds.image_folders(tmp_path, model="lite")
    assert len(data) == 2 and len(set(data.groups)) == 2
    i_flex = LABEL_NAMES.index("trunk_flexion")
    assert sorted(data.Y[:, i_flex]) == [0.0, 1.0]
    (tmp_path / "sitting").mkdir()
    with pytest.raises(UserError, match="unknown posture label 'sitting'"):
        ds.image_folders(tmp_path, model="lite")


def test_labelled_session_csv(tmp_path):
    proc = subprocess.run([*CLI, "analyze", str(SEATED), "--out", str(tmp_path), "--landmarks",
                           "--model", "lite", "--quiet"], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = read_rows(tmp_path / "seated_side_mit.csv")
    posture = {r["file"]: r["posture"] for r in read_rows(SEATED / "labels.csv")}
    labelled = tmp_path / "labelled.csv"
    shutil.copy(tmp_path / "seated_side_mit.json", tmp_path / "labelled.json")
    with open(labelled, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=[*rows[0], "label"])
        w.writeheader()
        for r in rows:
            p = posture[r["file"]]
            w.writerow(r | {"label": "" if p == "kneeling" else p})
    data = ds.session_csv(labelled)
    assert len(data) == 11 and data.skipped == {"unlabelled": 2}
    i_ext = LABEL_NAMES.index("trunk_extension")
    assert data.Y[:, i_ext].sum() == 4  # the four recline photos
    no_label = tmp_path / "seated_side_mit.csv"
    with pytest.raises(UserError, match="no 'label' column"):
        ds.session_csv(no_label)
