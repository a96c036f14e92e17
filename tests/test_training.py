"""Training module: a tiny real training run, the data sources, the synthetic generator."""

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from posture_monitor.core.classify.classifier import PostureClassifier
from posture_monitor.core.classify.labels import LABEL_NAMES, labels_from_angles, observable_in
from posture_monitor.core.common.errors import UserError
from posture_monitor.core.measure.metrics import measure
from posture_monitor.core.vision.landmarks import INDEX
from posture_monitor.training import clips
from posture_monitor.training import datasets as ds
from posture_monitor.training import synthetic as syn
from posture_monitor.training.evaluate import roc_auc
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
                    "hips_hidden_by_desk", "Real photos never trained on", "seated_side_mit",
                    "## Front views (the desk webcam)", "laptop_camera_35_to_50_cm_below_eyes",
                    "hair_over_both_ears", "ROC AUC",
                    "posture-monitor train --synthetic 2500 --seed 0 --real-eval"):
        assert section in report, section
    card = (out / "MODEL_CARD.md").read_text()
    assert "Not a diagnosis" in card and "synthetic" in card
    png = out / "evaluation" / "confusion_validation.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    numbers = json.loads((out / "evaluation" / "evaluation.json").read_text())
    assert set(numbers["validation_int8"]["labels"]) == set(LABEL_NAMES)
    front = numbers["validation_int8_by_view"]["front"]["labels"]
    assert front["forward_head"]["n"] > 100 and front["trunk_extension"]["n"] == 0
    assert front["forward_head"]["auc"] > 0.6  # a real ranking even after 3 epochs, not chance
    assert set(numbers["shift"]["hair_over_both_ears"]["by_view"]) == {"side", "front"}


def _markdown_table(text: str, first_header: str) -> dict[str, dict[str, str]]:
    """The first Markdown table whose header starts with `first_header`: {first cell: row}."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    header = [c.strip() for c in lines[start].strip("|").split("|")]
    table = {}
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert len(cells) == len(header), line
        table[cells[0]] = dict(zip(header, cells, strict=True))
    return table


def _ratio(num: int, den: int) -> str:
    return f"{num / den:.3f}" if den else "-"


def test_evaluate_command_on_real_photos_counts_what_the_shipped_model_decides(full_model):
    """`evaluate` on the real seated photos: each row's counts add up, its known and
    positive counts follow labels.csv, its TP/FP/FN/TN are the shipped model's own
    decisions (recomputed here photo by photo through the runtime pipeline), and the
    shipped EVALUATION.md shows the same table, so the report and the model agree."""
    from posture_monitor.core.capture.sources import open_source
    from posture_monitor.core.posture.pipeline import PosePipeline

    proc = subprocess.run([*CLI, "evaluate", "--model", "models/posture_classifier.tflite",
                           str(SEATED)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    table = _markdown_table(proc.stdout, "label")
    assert list(table) == list(LABEL_NAMES)
    for name, r in table.items():
        tp, fp, fn, tn = (int(r[k]) for k in ("TP", "FP", "FN", "TN"))
        assert int(r["known"]) == tp + fp + fn + tn, name
        assert int(r["positives"]) == tp + fn, name
        assert r["precision"] == _ratio(tp, tp + fp) and r["recall"] == _ratio(tp, tp + fn)
        assert r["accuracy"] == _ratio(tp + tn, tp + fp + fn + tn), name

    # The truth, from labels.csv: side views tell trunk flexion and extension of every
    # labelled photo; kneeling is no label.
    postures = {r["file"]: r["posture"] for r in read_rows(SEATED / "labels.csv")}
    labelled = {f: p for f, p in postures.items() if p != "kneeling"}
    truth = {"trunk_flexion": "hunchback", "trunk_extension": "recline"}
    for name, posture in truth.items():
        assert int(table[name]["known"]) == len(labelled)
        assert int(table[name]["positives"]) == sum(p == posture for p in labelled.values())
    for name in ("lateral_lean", "shoulder_asymmetry", "head_tilt"):  # not seen from a side
        assert table[name]["known"] == "0"

    clf = PostureClassifier()
    with PosePipeline(sequence=False, model=full_model) as pipe, open_source(SEATED) as src:
        probs = {f.name: pipe.process(f).classification.probabilities for f in src
                 if f.name in labelled}
    assert set(probs) == set(labelled)
    for i, name in enumerate(LABEL_NAMES):
        if name not in truth:
            continue
        counts = {"TP": 0, "FP": 0, "FN": 0, "TN": 0}
        for photo, posture in labelled.items():
            present, said = posture == truth[name], probs[photo][name] >= clf.thresholds[i]
            counts[("T" if present == said else "F") + ("P" if said else "N")] += 1
        assert {k: int(table[name][k]) for k in counts} == counts, name

    report = (ROOT / "models" / "EVALUATION.md").read_text()
    section = report[report.index("### seated_side_mit"):]
    assert _markdown_table(section, "label") == table
    summary = next(line for line in proc.stdout.splitlines() if line.startswith("All known"))
    assert summary in section
    # and the report's per-photo probabilities are this model's (to their two decimals)
    per_photo = _markdown_table(section, "photo")
    assert set(per_photo) == {f"seated_side_mit/{Path(f).stem}" for f in labelled}
    for photo, row in per_photo.items():
        shown = dict(item.split() for item in row["predicted probability"].split(", "))
        mine = probs[photo.split("/")[1] + ".jpg"]
        for name, value in shown.items():
            assert abs(float(value) - mine[name]) <= 0.0051, (photo, name, value, mine[name])


def test_synthetic_generator_is_deterministic_and_labels_follow_the_table():
    a, b = generate(60, seed=7), generate(60, seed=7)
    assert all(np.array_equal(x.pose.image, y.pose.image) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0].pose.image, generate(1, seed=8)[0].pose.image)
    for s in a:
        assert s.labels == labels_from_angles(**s.truth)


# Real MediaPipe (full) medians on a real upright person at a desk, front views
# (tests/fixtures/desk_webcam_bsd2; `posture-monitor analyze`): front_cam2.mp4 at eye level,
# front_low_cam0.mp4 below it, like a laptop camera.
REAL_UPRIGHT_FRONT = {
    "monitor": {"fwd_head_ratio": 0.457, "head_fwd_cm": 7.1, "head_size_ratio": 0.385,
                "neck_height_ratio": 0.543, "head_pitch_deg": 7.4},
    "laptop": {"fwd_head_ratio": 0.636, "head_fwd_cm": 4.9, "head_size_ratio": 0.390,
               "neck_height_ratio": 0.665, "head_pitch_deg": -7.9},
}


@pytest.mark.parametrize("setup", ["monitor", "laptop"])
def test_synthetic_upright_front_views_cover_the_real_upright_person(setup):
    """The generator's calibration: each real upright median lies inside the synthetic
    upright people's 5-95 % range for the same kind of camera."""
    values = {c: [] for c in REAL_UPRIGHT_FRONT[setup]}
    for s in syn.upright_front(400, seed=21, setup=setup):
        m = measure(s.pose, s.width, s.height)
        for c in values:
            if m.view == "front" and m.values[c] is not None:
                values[c].append(m.values[c])
    for c, real in REAL_UPRIGHT_FRONT[setup].items():
        lo, hi = np.percentile(values[c], [5, 95])
        assert lo < real < hi, (c, lo, real, hi)


def test_synthetic_front_forward_head_moves_the_front_measures_the_real_way():
    """A forward head seen face-on lowers the nose and ears relative to the shoulders (a
    real chin poke took fwd_head_ratio from 0.49 to 0.26) and enlarges the head."""
    drops, growth = [], []
    for seed in range(40):
        values = []
        for cva, protrusion, pitch in ((52.0, 0.0, 0.0), (28.0, 0.2, 15.0)):
            subject = syn.Subject(np.random.default_rng(seed), 0)
            posture = dict(cva=cva, trunk=-5.0, lean=0.0, shoulder_tilt=0.0, head_tilt=0.0,
                           pitch=pitch, protraction=0.01, protrusion=protrusion, head_yaw=0.0,
                           seated=1.0, arm_flex=20.0, elbow_flex=80.0)
            body = syn.build_body(subject, posture, np.random.default_rng(seed + 1))
            pose, w, h = syn.render(body, subject, np.random.default_rng(seed + 2),
                                    syn.Shift(noise_scale=0.0), yaw_deg=0.0, setup="monitor")
            values.append(measure(pose, w, h).values)
        up, fh = values
        if None in (up["fwd_head_ratio"], fh["fwd_head_ratio"], up["head_size_ratio"],
                    fh["head_size_ratio"]):
            continue  # no shoulders in this frame
        drops.append(up["fwd_head_ratio"] - fh["fwd_head_ratio"])
        growth.append(fh["head_size_ratio"] / up["head_size_ratio"])
    assert len(drops) >= 20
    assert 0.08 < np.median(drops) < 0.3 and np.median(growth) > 1.03


def test_synthetic_world_depth_is_shrunk_towards_a_canonical_head():
    """MediaPipe's world landmarks carry only part of a forward head's depth: with a depth
    shrink of 0.3 the 3D head-forward distance moves far less than with none."""
    moved = {}
    for shrink in (1.0, 0.3):
        fwd = []
        for cva in (52.0, 28.0):
            subject = syn.Subject(np.random.default_rng(5), 0)
            subject.depth_shrink = shrink
            posture = dict(cva=cva, trunk=0.0, lean=0.0, shoulder_tilt=0.0, head_tilt=0.0,
                           pitch=0.0, protraction=0.0, protrusion=0.2, head_yaw=0.0,
                           seated=1.0, arm_flex=20.0, elbow_flex=80.0)
            body = syn.build_body(subject, posture, np.random.default_rng(6))
            pose, w, h = syn.render(body, subject, np.random.default_rng(7),
                                    syn.Shift(noise_scale=0.0), yaw_deg=0.0, setup="monitor")
            fwd.append(measure(pose, w, h).values["head_fwd_cm"])
        moved[shrink] = fwd[1] - fwd[0]
    assert moved[1.0] > 2.5  # the head goes forward (and down, which a pitched camera mixes in)
    assert moved[0.3] < 0.4 * moved[1.0]


def test_hair_over_the_ears_can_hide_them_but_forward_head_stays_answered():
    hidden = answered = 0
    for s in generate(1500, seed=4, shift=syn.Shift(hair_over_ears=True)):
        m = measure(s.pose, s.width, s.height)
        if m.view != "front" or m.values["fwd_head_ratio"] is None:
            continue
        ears = s.pose.visibility[[INDEX["left_ear"], INDEX["right_ear"]]]
        if ears.min() < 0.5:
            hidden += 1
            assert m.values["neck_height_ratio"] is None  # an ear it needs is unusable
            answered += observable_in(m.values, m.view)["forward_head"]
    assert hidden > 30 and answered == hidden


def test_real_clip_specs_and_phase_figures(tmp_path):
    clip = tmp_path / "desk.mp4"
    clip.write_bytes(b"x")
    spec = clips.parse_clip_spec(f"{clip}@forward_head=20-50")
    assert spec.label == "forward_head" and spec.phases == [(20.0, 50.0)]
    assert clips.parse_clip_spec(clip).label is None
    for bad in ("@forward_head=50-20", "@slouch=1-2", "@forward_head=a-b"):
        with pytest.raises(UserError):
            clips.parse_clip_spec(f"{clip}{bad}")
    with pytest.raises(UserError, match="not found"):
        clips.parse_clip_spec(tmp_path / "none.mp4")
    # 1 frame a second: upright 0-19 s (p 0.1), forward head 20-49 s (p 0.8, one miss),
    # upright 50-69 s; frames within 2 s of a change are left out.
    rows = []
    for t in range(70):
        p = 0.8 if 20 <= t < 50 else 0.1
        if t == 30:
            p = 0.05
        rows.append({"t": float(t), "view": "front", "p": dict.fromkeys(LABEL_NAMES) |
                     {"forward_head": p}})
    r = clips.summarize_clip(spec, rows)
    ph = r["phases"]
    # present: 22-48 s (27 frames); absent: 0-18 and 52-69 s (37 frames)
    assert ph["frames_present"] == 27 and ph["frames_absent"] == 37
    assert ph["auc"] == pytest.approx(26 / 27)  # the one miss ranks below every upright frame
    assert ph["above_present"] == pytest.approx(26 / 27) and ph["above_absent"] == 0.0
    assert r["labels"]["forward_head"]["answered"] == 70
    assert r["labels"]["head_tilt"] == {"answered": 0}


def test_roc_auc_counts_ties_half():
    assert roc_auc([1, 0, 1, 0], [0.9, 0.1, 0.5, 0.5]) == pytest.approx(0.875)
    assert roc_auc([1, 1, 0], [0.2, 0.2, 0.2]) == pytest.approx(0.5)
    assert roc_auc([1, 1], [0.1, 0.2]) is None


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


def test_image_folders_label_photos_by_folder_and_refuse_unknown_names(tmp_path):
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


def test_labelled_session_csv_reads_its_label_column_and_skips_unlabelled(tmp_path):
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
