"""`posture-monitor train` and `posture-monitor evaluate`: data -> model -> report."""

from __future__ import annotations

import hashlib
import json
import platform
import shlex
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from posture_monitor import __version__
from posture_monitor.core.classify.classifier import CLASSIFIER_FILE, PostureClassifier
from posture_monitor.core.classify.features import FEATURE_VERSION, feature_names
from posture_monitor.core.classify.labels import LABEL_NAMES, label_table
from posture_monitor.core.common.errors import UserError
from posture_monitor.progress import ProgressBar
from posture_monitor.training import clips as rc
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
_VIEW_COLUMN = {"side": feature_names().index("view_side"),
                "front": feature_names().index("view_front")}
# Front-view metrics compared between real upright clips and synthetic upright people.
CALIBRATION_METRICS = ("fwd_head_ratio", "head_fwd_cm", "head_size_ratio",
                       "neck_height_ratio", "head_pitch_deg")
CALIBRATION_SAMPLES = 600


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

    def command(self) -> str:
        """The command line that reproduces this run."""
        args = ["posture-monitor", "train"]
        if self.synthetic:
            args += ["--synthetic", str(self.synthetic)]
        args += ["--seed", str(self.seed)]
        for flag, paths in (("--images", self.images), ("--yolo", self.yolo),
                            ("--real-eval", self.real_eval)):
            for path in paths:
                args += [flag, str(path)]
        if self.sessions:
            args += ["--sessions", *map(str, self.sessions)]
        if self.epochs != 60:
            args += ["--epochs", str(self.epochs)]
        if self.shift_samples != 3000:
            args += ["--shift-samples", str(self.shift_samples)]
        return shlex.join([*args, "--out", str(self.out)])


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


def by_view(data: ds.Dataset, P: np.ndarray, thresholds: np.ndarray) -> dict[str, dict]:
    """The same figures for side-view and front-view samples separately."""
    out = {}
    for view, column in _VIEW_COLUMN.items():
        rows = data.X[:, column] > 0.5
        out[view] = label_metrics(data.Y[rows], data.M[rows], P[rows], thresholds)
    return out


def shift_cases() -> dict:
    from posture_monitor.training.synthetic import Shift

    return {
        "in_distribution": Shift(),
        "landmark_noise_x3": Shift(noise_scale=3.0),
        "camera_yaw_25_to_35_deg_past_training": Shift(yaw_extra_deg=10.0),
        "camera_roll_12_deg": Shift(roll_deg=12.0),
        "hips_hidden_by_desk": Shift(hide_hips=True),
        "laptop_camera_35_to_50_cm_below_eyes": Shift(camera_below_eye_m=(0.35, 0.50)),
        "hair_over_both_ears": Shift(hair_over_ears=True),
    }


def shift_experiments(clf: PostureClassifier, n: int, seed: int) -> dict[str, dict]:
    out = {}
    for i, (name, shift) in enumerate(shift_cases().items()):
        data = ds.synthetic(n, seed=seed + 1000 + i, shift=shift, name=name)
        P = clf.predict_many(data.X)
        result = label_metrics(data.Y, data.M, P, clf.thresholds)
        result["skipped"] = data.skipped
        result["by_view"] = by_view(data, P, clf.thresholds)
        out[name] = result
    return out


def synthetic_calibration(n: int, seed: int) -> dict:
    """Front-view metrics of synthetic upright people per desk set-up: 5th percentile,
    median, 95th percentile (compared with the real upright clips in the report)."""
    from posture_monitor.core.measure.metrics import measure
    from posture_monitor.training.synthetic import upright_front

    out = {}
    for i, setup in enumerate(("laptop", "monitor")):
        values: dict[str, list[float]] = {c: [] for c in CALIBRATION_METRICS}
        for s in upright_front(n, seed + 2000 + i, setup):
            m = measure(s.pose, s.width, s.height)
            if m.view == "front":
                for c in CALIBRATION_METRICS:
                    if m.values[c] is not None:
                        values[c].append(m.values[c])
        out[setup] = {c: {"n": len(v), "p5": float(np.percentile(v, 5)),
                          "median": float(np.median(v)), "p95": float(np.percentile(v, 95))}
                      for c, v in values.items() if v}
    return {"people": n, "setups": out}


def evaluate_clip(model_path: Path, spec: rc.ClipSpec, pose_model: str,
                  threshold: float = DECISION_THRESHOLD) -> dict:
    """A real clip through the runtime pipeline with this model, summarized; with the
    medians of the front-view calibration metrics over its front frames."""
    rows = rc.clip_frames(spec, model_path, pose_model, CALIBRATION_METRICS)
    result = rc.summarize_clip(spec, rows, threshold)
    front = [r for r in rows if r["view"] == "front"]
    result["front_metric_medians"] = {
        c: float(np.median(v)) for c in CALIBRATION_METRICS
        if (v := [r["m"][c] for r in front if r["m"][c] is not None])}
    return result


def train_command(o: TrainOptions) -> dict:
    from posture_monitor.training import model as mdl

    o.out.mkdir(parents=True, exist_ok=True)
    data = load_sources(o)
    train_set, val_set = split_by_group(data, o.seed)
    from posture_monitor.core.common.native_log import terminal_stream

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
        "validation_int8_by_view": by_view(val_set, p_int8, th),
        "float_vs_int8": agreement(p_float, p_int8, val_set.M, th),
        "shift": shift_experiments(clf, o.shift_samples, o.seed) if o.shift_samples else {},
        "real": {},
        "real_clips": {},
        "calibration": {},
        "command": o.command(),
    }
    clip_specs = [rc.parse_clip_spec(r) for r in o.real_eval if rc.is_clip_spec(r)]
    for spec in clip_specs:
        evaluation["real_clips"][spec.name] = evaluate_clip(model_path, spec, o.pose_model)
    if clip_specs:
        evaluation["calibration"] = synthetic_calibration(CALIBRATION_SAMPLES, o.seed)
    for root in o.real_eval:
        if rc.is_clip_spec(root):
            continue
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
    meta["evaluation"] = {k: v for k, v in evaluation.items()
                          if k not in ("shift", "real_clips", "calibration")} | {
        "shift": {k: {"accuracy": v["accuracy"], "exact_match": v["exact_match"]}
                  for k, v in evaluation["shift"].items()},
        "real_clips": {k: {"labels": v["labels"], "phases": v.get("phases")}
                       for k, v in evaluation["real_clips"].items()}}
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
        if rc.is_clip_spec(spec):
            lines += [f"\n## {spec}", clip_summary_text(
                evaluate_clip(clf.path, rc.parse_clip_spec(spec), pose_model))]
            continue
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


def clip_summary_text(r: dict) -> str:
    """A real clip's figures as markdown (for `evaluate` and the report)."""
    from posture_monitor.training.report import clip_rows

    return "\n".join(clip_rows({r["clip"]: r}))
