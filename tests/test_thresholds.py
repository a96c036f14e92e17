"""The live window and `analyze` decide labels with the same thresholds (issue 12): the
classifier's own per-label ones unless the user sets one."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import numpy as np

from posture_monitor import cli
from posture_monitor.core.classify.classifier import resolve_classifier
from posture_monitor.core.classify.labels import LABEL_NAMES
from posture_monitor.core.measure.metrics import measure
from posture_monitor.core.posture.pipeline import PosePipeline
from posture_monitor.core.records.app_settings import AppSettings
from tests.posegen import H, W, side_pose

# Far from 0.5 on both sides, so a 0.5 in their place changes the decision.
THRESHOLDS = {n: (0.2 if i % 2 else 0.8) for i, n in enumerate(LABEL_NAMES)}
P = 0.6  # every label's probability: above the 0.2 ones and 0.5, below the 0.8 ones


def _model_with_own_thresholds(tmp_path):
    src = resolve_classifier()
    dst = tmp_path / src.name
    shutil.copy(src, dst)
    meta = json.loads(src.with_suffix(".json").read_text())
    meta["decision_thresholds"] = THRESHOLDS
    dst.with_suffix(".json").write_text(json.dumps(meta))
    return dst


def _window_settings(path, app: AppSettings):
    # The window's path: saved settings -> AppSettings -> AnalysisSettings (live.py)
    return replace(app.validated().to_analysis_settings(), model="lite", classifier=str(path))


def _analyze_settings(path, tmp_path):
    args = cli.build_parser().parse_args(["analyze", "clip.mp4", "--out", str(tmp_path),
                                          "--model", "lite", "--classifier", str(path)])
    return cli._settings(args)


def _decision(settings):
    with PosePipeline(settings) as pipeline:
        pipeline.classifier.predict = lambda features: np.full(len(LABEL_NAMES), P, np.float32)
        pose = side_pose("left", 50, 35, 0)
        label = pipeline.classifier.classify(pose, measure(pose, W, H), W, H).label
        rules = {r.key: r.threshold for r in pipeline.alerts.rules}
        return label, pipeline.classifier.info()["decision_thresholds"], rules


def test_window_and_analyze_both_use_the_models_own_per_label_thresholds(tmp_path):
    path = _model_with_own_thresholds(tmp_path)
    window = _decision(_window_settings(path, AppSettings()))
    batch = _decision(_analyze_settings(path, tmp_path))
    assert window == batch
    label, thresholds, rules = window
    assert thresholds == THRESHOLDS
    assert rules == {f"p_{n}": t for n, t in THRESHOLDS.items()}  # label alerts agree
    # the decision the thresholds give, and not the one a 0.5 for all would give
    one_half = _decision(_window_settings(path, AppSettings(decision_threshold=0.5)))
    assert label != one_half[0]
    assert set(one_half[1].values()) == {0.5}


def test_a_threshold_the_user_sets_replaces_the_models_for_every_label(tmp_path):
    path = _model_with_own_thresholds(tmp_path)
    _, thresholds, rules = _decision(_window_settings(path, AppSettings(decision_threshold=0.7)))
    assert set(thresholds.values()) == {0.7} and set(rules.values()) == {0.7}
