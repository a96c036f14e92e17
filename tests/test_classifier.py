"""The shipped int8 classifier through LiteRT, on real photos and constructed cases."""

import json
import shutil

import numpy as np
import pytest

from posture_monitor.core.classifier import PostureClassifier, resolve_classifier
from posture_monitor.core.errors import ModelError
from posture_monitor.core.features import N_FEATURES, compute_features, feature_names
from posture_monitor.core.labels import LABEL_NAMES, LABELS
from posture_monitor.core.metrics import measure
from posture_monitor.core.pipeline import PosePipeline
from posture_monitor.core.sources import open_source
from tests.conftest import FIXTURES, SEATED, read_rows
from tests.posegen import H, W, side_pose


@pytest.fixture(scope="module")
def clf():
    return PostureClassifier()


def test_shipped_model_is_small_full_integer(clf):
    path = resolve_classifier()
    assert path.stat().st_size <= 64 * 1024
    assert clf.int8  # int8 in and out, checked from the tensors themselves
    assert clf.meta["feature_version"] == 1 and clf.meta["labels"] == list(LABEL_NAMES)
    assert len(clf.mean) == N_FEATURES == len(feature_names())


def test_runs_through_litert(clf):
    from ai_edge_litert.interpreter import Interpreter

    assert isinstance(clf._interp, Interpreter)


def test_real_seated_photos_flag_trunk_correctly(full_model, clf):
    """Real photos never trained on: hunchback -> trunk_flexion, recline -> trunk_extension,
    straight -> neither."""
    labels = {r["file"]: r["posture"] for r in read_rows(SEATED / "labels.csv")}
    with PosePipeline(sequence=False, model=full_model) as pipe, open_source(SEATED) as src:
        results = {f.name: pipe.process(f).classification for f in src}
    checked = 0
    for name, c in results.items():
        posture = labels[name]
        p = c.probabilities
        assert p["trunk_flexion"] is not None, name  # side view with hips: not abstained
        flexion, extension = p["trunk_flexion"] >= 0.5, p["trunk_extension"] >= 0.5
        if posture == "hunchback":
            assert flexion and not extension, name
            assert "trunk_flexion" in c.label
        elif posture == "recline":
            assert extension and not flexion, name
            assert "trunk_extension" in c.label
        elif posture == "straight":
            assert not flexion and not extension, name
        else:
            continue
        checked += 1
    assert checked == 11


def test_abstains_without_trustworthy_landmarks(clf, full_model):
    assert clf.classify(None, measure(None, W, H), W, H).label is None
    photo = FIXTURES / "skimage" / "camera.png"
    with PosePipeline(sequence=False, model=full_model) as pipe, open_source(photo) as src:
        oblique = pipe.process(next(iter(src))).classification
    assert oblique.label is None and all(v is None for v in oblique.probabilities.values())


def test_side_view_only_reports_side_labels(clf):
    pose = side_pose("left", 50, 35, 0)
    c = clf.classify(pose, measure(pose, W, H), W, H)
    for lbl in LABELS:
        assert (c.probabilities[lbl.name] is None) == ("left" not in lbl.views)


def _front_body(shoulder_tilt, head_tilt, seed=3):
    """A whole synthetic body (all 33 landmarks, world and image) seen from the front."""
    from posture_monitor.training.synthetic import Shift, Subject, build_body, render

    rng = np.random.default_rng(seed)
    subject = Subject(rng, 0)
    posture = dict(cva=52.0, trunk=-5.0, lean=0.0, shoulder_tilt=shoulder_tilt,
                   head_tilt=head_tilt, pitch=0.0, protraction=0.01, head_yaw=0.0,
                   seated=1.0, arm_flex=20.0, elbow_flex=80.0)
    body = build_body(subject, posture, rng)
    pose, w, h = render(body, subject, rng, Shift(noise_scale=0.2), yaw_deg=0.0)
    return pose, w, h


def test_front_view_sees_shoulder_and_head_tilt(clf):
    results = {}
    for tilt in (0.0, 12.0, -12.0):
        pose, w, h = _front_body(tilt, tilt)
        m = measure(pose, w, h)
        assert m.view == "front"
        results[tilt] = clf.classify(pose, m, w, h).probabilities
    for label in ("shoulder_asymmetry", "head_tilt"):
        assert results[12.0][label] > 0.5 > results[0.0][label], label
        assert results[-12.0][label] > 0.5, label  # either side counts
    assert results[0.0]["forward_head"] is None  # not a front-view label


def test_quantization_matches_manual_int8_arithmetic(clf):
    pose = side_pose("right", 45, 25, 5)
    f = compute_features(pose, measure(pose, W, H), W, H)
    p = clf.predict(f)
    assert p.shape == (len(LABEL_NAMES),) and np.all((p >= 0) & (p <= 1))
    # Dequantized outputs lie on the output tensor's int8 grid.
    steps = p / clf._out_scale + clf._out_zero
    assert np.allclose(steps, np.round(steps), atol=1e-4)


def _copy_model(tmp_path, **changes):
    src = resolve_classifier()
    dst = tmp_path / src.name
    shutil.copy(src, dst)
    meta = json.loads(src.with_suffix(".json").read_text())
    meta.update(changes)
    dst.with_suffix(".json").write_text(json.dumps(meta))
    return dst


def test_feature_version_mismatch_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="feature version 0.*retrain"):
        PostureClassifier(_copy_model(tmp_path, feature_version=0))


def test_label_mismatch_and_missing_files(tmp_path):
    with pytest.raises(ModelError, match="predicts"):
        PostureClassifier(_copy_model(tmp_path, labels=["a", "b"]))
    with pytest.raises(ModelError, match="not found"):
        PostureClassifier(tmp_path / "nope.tflite")
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"garbage" * 10)
    shutil.copy(resolve_classifier().with_suffix(".json"), bad.with_suffix(".json"))
    with pytest.raises(ModelError, match="cannot load"):
        PostureClassifier(bad)
