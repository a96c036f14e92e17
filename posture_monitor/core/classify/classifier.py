"""The posture classifier at run time: our int8 TFLite model through LiteRT.

`ai_edge_litert` is Google's maintained successor of `tflite-runtime` (whose last release
cannot load models under NumPy 2); where only `tflite_runtime` is installed we use it.
The model's input and output are int8: features are standardized with the statistics
stored beside the model, quantized with the input tensor's scale and zero point, and
the int8 outputs dequantized back to probabilities.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from posture_monitor.core.classify.features import FEATURE_VERSION, compute_features
from posture_monitor.core.classify.labels import LABEL_NAMES, UPRIGHT, observable_in
from posture_monitor.core.common.errors import ModelError
from posture_monitor.core.common.hashing import file_sha256_cached
from posture_monitor.core.common.resources import models_dir
from posture_monitor.core.measure.definitions import SIDE_VIEWS
from posture_monitor.core.measure.metrics import Measurement
from posture_monitor.core.vision.pose import Pose

CLASSIFIER_FILE = "posture_classifier.tflite"
STANDARD_CLIP = 6.0  # standardized features beyond +-6 SD are clipped: int8 has 256 steps
# A frame is classified only when the landmarks its view rests on were measured.
REQUIRED_METRIC = {"left": "cva_deg", "right": "cva_deg", "front": "shoulder_tilt_deg"}


def standardize(X: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    return np.clip((X - mean) / std, -STANDARD_CLIP, STANDARD_CLIP).astype(np.float32)


def _interpreter_class():
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:  # older installs
        try:
            from tflite_runtime.interpreter import Interpreter
        except ImportError:
            raise ModelError("no TFLite runtime installed: pip install ai-edge-litert") from None
    return Interpreter


def resolve_classifier(spec: str | Path = "default") -> Path:
    path = models_dir() / CLASSIFIER_FILE if str(spec) == "default" else Path(spec).expanduser()
    if not path.is_file():
        raise ModelError(f"posture classifier not found: {path} (reinstall, rebuild it with "
                         "make model, or pass --classifier none)")
    return path


@dataclass
class Classification:
    probabilities: dict[str, float | None]  # None where the view cannot tell (abstained)
    label: str | None  # "upright", "a+b" (most probable first), None when abstaining
    confidence: float | None


ABSTAIN = Classification({n: None for n in LABEL_NAMES}, None, None)


class PostureClassifier:
    def __init__(self, spec: str | Path = "default",
                 decision_threshold: float | None = None) -> None:
        self.path = resolve_classifier(spec)
        meta_path = self.path.with_suffix(".json")
        try:
            self.meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(f"classifier metadata {meta_path} is missing or unreadable "
                             f"({exc.__class__.__name__}); rebuild with make model") from None
        version = self.meta.get("feature_version")
        if version != FEATURE_VERSION:
            raise ModelError(f"classifier {self.path} was trained on feature version {version}, "
                             f"this program computes version {FEATURE_VERSION}: retrain it "
                             "(make model) or use a matching program version")
        if list(self.meta.get("labels", [])) != list(LABEL_NAMES):
            raise ModelError(f"classifier {self.path} predicts {self.meta.get('labels')}, "
                             f"this program expects {list(LABEL_NAMES)}: retrain it")
        self.mean = np.asarray(self.meta["feature_mean"], np.float32)
        self.std = np.asarray(self.meta["feature_std"], np.float32)
        self.thresholds = np.asarray([self.meta["decision_thresholds"][n] for n in LABEL_NAMES])
        if decision_threshold is not None:  # the user's setting overrides the model's
            self.thresholds = np.full(len(LABEL_NAMES), float(decision_threshold))
        from posture_monitor.core.common.native_log import quiet_native_stderr

        try:
            with quiet_native_stderr():  # "INFO: Created TensorFlow Lite XNNPACK delegate"
                self._interp = _interpreter_class()(model_path=str(self.path), num_threads=1)
                self._interp.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"cannot load classifier {self.path} ({str(exc)[:120]}); "
                             "rebuild with make model") from None
        inp = self._interp.get_input_details()[0]
        out = self._interp.get_output_details()[0]
        self._in_index, self._out_index = inp["index"], out["index"]
        self._in_scale, self._in_zero = inp["quantization"]
        self._out_scale, self._out_zero = out["quantization"]
        self.int8 = inp["dtype"] == np.int8 and out["dtype"] == np.int8
        if not self.int8:
            raise ModelError(f"classifier {self.path} is not full-integer int8")
        self.sha256 = file_sha256_cached(self.path)

    def info(self) -> dict:
        return {"file": self.path.name, "sha256": self.sha256,
                "feature_version": self.meta["feature_version"],
                "trained": self.meta.get("trained"),
                "decision_thresholds": dict(zip(LABEL_NAMES, map(float, self.thresholds),
                                                strict=True))}

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Per-label probabilities for one feature vector."""
        xs = standardize(features, self.mean, self.std)
        q = np.clip(np.round(xs / self._in_scale + self._in_zero), -128, 127).astype(np.int8)
        self._interp.set_tensor(self._in_index, q[None, :])
        self._interp.invoke()
        out = self._interp.get_tensor(self._out_index)[0]
        return (out.astype(np.float32) - self._out_zero) * self._out_scale

    def predict_many(self, X: np.ndarray) -> np.ndarray:
        return np.stack([self.predict(x) for x in X]) if len(X) else np.zeros((0, 6))

    def classify(self, pose: Pose | None, m: Measurement, width: int,
                 height: int) -> Classification:
        """Labels for one frame, or abstention when the landmarks cannot support them."""
        required = REQUIRED_METRIC.get(m.view)
        if pose is None or required is None or m.values.get(required) is None:
            return ABSTAIN
        seen = observable_in(m.values, m.view)
        p = self.predict(compute_features(pose, m, width, height))
        probs = {n: (float(p[i]) if seen[n] else None) for i, n in enumerate(LABEL_NAMES)}
        present = sorted((n for i, n in enumerate(LABEL_NAMES)
                          if seen[n] and p[i] >= self.thresholds[i]), key=lambda n: -probs[n])
        if present:
            return Classification(probs, "+".join(present),
                                  float(np.mean([probs[n] for n in present])))
        observed = [v for v in probs.values() if v is not None]
        return Classification(probs, UPRIGHT, 1.0 - max(observed))


__all__ = ["ABSTAIN", "Classification", "PostureClassifier", "SIDE_VIEWS", "standardize"]
