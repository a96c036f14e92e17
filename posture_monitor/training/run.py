"""`posture-monitor train` and `posture-monitor evaluate`: data -> model -> report."""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from posture_monitor import __version__
from posture_monitor.core.classifier import CLASSIFIER_FILE, PostureClassifier
from posture_monitor.core.errors import UserError
from posture_monitor.core.features import FEATURE_VERSION, feature_names
from posture_monitor.core.labels import LABEL_NAMES, label_table
from posture_monitor.progress import ProgressBar
from posture_monitor.training import datasets as ds
from posture_monitor.training.evaluate import (
    agreement,
    confusion_png,
    label_metrics,
    markdown_table,
)
from posture_monitor.training.report import write_model_card, write_report

DECISION_THRESHOLD = 0.5
VAL_SHARE = 0.2


@dataclass
class TrainOptions:
    synthetic: int = 0
    images: list[Path] = field(default_factory=list)
    yolo: list[Path] = field(default_factory=list)
    sessions: list[Path] = field(default_factory=list)
    real_eval: list[Path] = field(default_factory=list)
    out: Path = Path("models")
    seed: int = 0
    epochs: int = 60
    shift_samples: int = 3000
    pose_model: str = "full"
    quiet: bool = False


def _bar(label: str, quiet: bool) -> ProgressBar:
    return ProgressBar(label, enabled=False if quiet else None)


def load_sources(o: TrainOptions) -> ds.Dataset:
    data = ds.Dataset()
    if o.synthetic:
        bar = _bar("synthetic poses", o.quiet)
        data.extend(ds.synthetic(o.synthetic, seed=o.seed, progress=bar))
        bar.close()
    for root in o.images:
        data.extend(ds.image_folders(root, o.pose_model))
    for root in o.yolo:
        data.extend(ds.yolo_pose(root, o.pose_model))
    for path in o.sessions:
        data.extend(ds.session_csv(path))
    if len(data) < 50:
        raise UserError(f"only {len(data)} usable training samples: add --synthetic N "
                        "(e.g. 20000) or more data")
    return data


def split_by_group(data: ds.Dataset, seed: int) -> tuple[ds.Dataset, ds.Dataset]:
    """Validation never shares a subject (synthetic) or a source photo with training."""
    groups = np.array(sorted(set(data.groups)))
    rng = np.random.default_rng(seed)
    val_groups = set(rng.choice(groups, max(1, int(len(groups) * VAL_SHARE)), replace=False))
    is_val = np.array([g in val_groups for g in data.groups])
    return data.subset(np.flatnonzero(~is_val)), data.subset(np.flatnonzero(is_val))


def data_hash(d: ds.Dataset) -> str:
    h = hashlib.sha256()
    for a in (d.X, d.Y, d.M):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def evaluate_model(clf: PostureClassifier, data: ds.Dataset) -> dict:
    P = clf.predict_many(data.X)
    return label_metrics(data.Y, data.M, P, clf.thresholds)


def shift_experiments(clf: PostureClassifier, n: int, seed: int) -> dict[str, dict]:
    from posture_monitor.training.synthetic import Shift

    cases = {
        "in_distribution": Shift(),
        "landmark_noise_x3": Shift(noise_scale=3.0),
        "camera_yaw_25_to_35_deg_past_training": Shift(yaw_extra_deg=10.0),
        "camera_roll_12_deg": Shift(roll_deg=12.0),
        "hips_hidden_by_desk": Shift(hide_hips=True),
    }
    out = {}
    for i, (name, shift) in enumerate(cases.items()):
        data = ds.synthetic(n, seed=seed + 1000 + i, shift=shift, name=name)
        result = evaluate_model(clf, data)
        result["skipped"] = data.skipped
        out[name] = result
    return out


def train_command(o: TrainOptions) -> dict:
    from posture_monitor.training import model as mdl

    o.out.mkdir(parents=True, exist_ok=True)
    data = load_sources(o)
    train_set, val_set = split_by_group(data, o.seed)
    from posture_monitor.core.native_log import terminal_stream

    bar = ProgressBar("training", stream=terminal_stream(), enabled=False if o.quiet else None)
    trained = mdl.train(train_set, val_set, seed=o.seed, epochs=o.epochs,
                        on_epoch=lambda e, n, logs: bar(e, n))
    bar.close()
    tflite = mdl.to_int8_tflite(trained, train_set.X, seed=o.seed)
    model_path = o.out / CLASSIFIER_FILE
    model_path.write_bytes(tflite)

    import tensorflow as tf

    thresholds = {n: DECISION_THRESHOLD for n in LABEL_NAMES}
    meta = {
        "labels": list(LABEL_NAMES),
        "label_table": label_table(),
        "decision_thresholds": thresholds,
        "feature_version": FEATURE_VERSION,
        "feature_names": feature_names(),
        "feature_mean": trained.mean.tolist(),
        "feature_std": trained.std.tolist(),
        "architecture": f"MLP {len(feature_names())}-" + "-".join(map(str, mdl.HIDDEN))
        + f"-{len(LABEL_NAMES)}, ReLU, sigmoid outputs, int8 full-integer",
        "trained": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "software": {"posture_monitor": __version__, "tensorflow": tf.__version__,
                     "python": platform.python_version()},
        "training": {
            "seed": o.seed, "epochs_max": o.epochs, "epochs_run": trained.epochs_run,
            "samples": len(data), "train_samples": len(train_set), "val_samples": len(val_set),
            "sources": data.sources, "skipped": data.skipped, "data_sha256": data_hash(data),
            "split": f"{int(VAL_SHARE * 100)} % of subjects/source photos held out",
            "final_loss": trained.history["loss"][-1],
            "best_val_loss": min(trained.history["val_loss"]),
        },
        "size_bytes": len(tflite),
    }
    meta_path = model_path.with_suffix(".json")
    meta_path.write_text(json.dumps(meta, indent=1), encoding="utf-8")

    clf = PostureClassifier(model_path)
    p_float = mdl.float_predict(trained, val_set.X)
    p_int8 = clf.predict_many(val_set.X)
    th = clf.thresholds
    evaluation = {
        "validation_float": label_metrics(val_set.Y, val_set.M, p_float, th),
        "validation_int8": label_metrics(val_set.Y, val_set.M, p_int8, th),
        "float_vs_int8": agreement(p_float, p_int8, val_set.M, th),
        "shift": shift_experiments(clf, o.shift_samples, o.seed) if o.shift_samples else {},
        "real": {},
    }
    for root in o.real_eval:
        real = ds.labelled_photos(root, o.pose_model)
        result = evaluate_model(clf, real)
        P = clf.predict_many(real.X)
        result["per_photo"] = [
            {"photo": g, "known": {n: bool(real.Y[i, j]) for j, n in enumerate(LABEL_NAMES)
                                   if real.M[i, j]},
             "predicted": {n: round(float(P[i, j]), 3) for j, n in enumerate(LABEL_NAMES)
                           if real.M[i, j]}}
            for i, g in enumerate(real.groups)]
        result["skipped"] = real.skipped
        evaluation["real"][root.name] = result
    meta["evaluation"] = {k: v for k, v in evaluation.items() if k != "shift"} | {
        "shift": {k: {"accuracy": v["accuracy"], "exact_match": v["exact_match"]}
                  for k, v in evaluation["shift"].items()}}
    meta_path.write_text(json.dumps(meta, indent=1), encoding="utf-8")
    (o.out / "evaluation").mkdir(exist_ok=True)
    (o.out / "evaluation" / "evaluation.json").write_text(json.dumps(evaluation, indent=1))
    confusion_png(evaluation["validation_int8"], o.out / "evaluation" / "confusion_validation.png",
                  "int8 model, synthetic validation subjects")
    for name, result in evaluation["real"].items():
        confusion_png(result, o.out / "evaluation" / f"confusion_real_{name}.png",
                      f"int8 model, real photos: {name}")
    write_report(o.out / "EVALUATION.md", meta, evaluation)
    write_model_card(o.out / "MODEL_CARD.md", meta, evaluation)
    return {"model": model_path, "meta": meta, "evaluation": evaluation}


def evaluate_command(model: Path, inputs: list[str], pose_model: str = "full") -> str:
    """Evaluate a model on labelled data: a photos folder with labels.csv, a folder of
    class folders, a YOLO-pose set, a labelled session CSV, or synthetic:N."""
    clf = PostureClassifier(model)
    lines = [f"model {clf.path} (sha256 {clf.sha256[:12]}...)"]
    for spec in inputs:
        path = Path(spec)
        if spec.startswith("synthetic:"):
            data = ds.synthetic(int(spec.split(":", 1)[1]), seed=12345)
        elif path.suffix.lower() == ".csv":
            data = ds.session_csv(path)
        elif (path / "labels.csv").is_file():
            data = ds.labelled_photos(path, pose_model)
        elif (path / "labels").is_dir():
            data = ds.yolo_pose(path, pose_model)
        elif path.is_dir():
            data = ds.image_folders(path, pose_model)
        else:
            raise UserError(f"cannot evaluate on {spec}: not a folder, CSV or synthetic:N")
        lines += [f"\n## {spec} ({len(data)} samples, skipped {data.skipped or 'none'})",
                  markdown_table(evaluate_model(clf, data))]
    return "\n".join(lines)
