"""The classifier head: a small MLP on the features, trained with TensorFlow/Keras and
converted to a full-integer int8 TFLite model. Needs the `[train]` extra."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from posture_monitor.core.classify.classifier import standardize
from posture_monitor.core.classify.labels import LABEL_NAMES
from posture_monitor.core.common.errors import UserError
from posture_monitor.training.datasets import Dataset

HIDDEN = (32, 16)
STD_FLOOR = 1e-3  # constant features (a flag always 1 in a subset) must not divide by 0


def _tf():
    from posture_monitor.core.common.native_log import quiet_native_stderr

    try:
        with quiet_native_stderr():  # oneDNN and absl start-up notices
            import tensorflow as tf
    except ImportError:
        raise UserError("training needs TensorFlow: pip install 'posture-monitor[train]' "
                        "(or run make test, which installs it)") from None
    return tf


@dataclass
class Trained:
    model: object  # keras.Model
    mean: np.ndarray
    std: np.ndarray
    epochs_run: int
    history: dict[str, list[float]]


def masked_bce(y_true, y_pred):
    """Binary cross-entropy over the labels that are known (mask = 1) only.

    y_true packs [labels, mask]: a side view says nothing about shoulder asymmetry, and
    a photo folder named 'hunchback' nothing about head tilt."""
    tf = _tf()
    n = len(LABEL_NAMES)
    y, mask = y_true[:, :n], y_true[:, n:]
    p = tf.clip_by_value(y_pred, 1e-6, 1 - 1e-6)
    bce = -(y * tf.math.log(p) + (1 - y) * tf.math.log(1 - p))
    return tf.reduce_sum(bce * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)


def train(train_set: Dataset, val_set: Dataset, seed: int = 0, epochs: int = 60,
          batch: int = 256, patience: int = 6,
          on_epoch: Callable[[int, int, dict], None] | None = None) -> Trained:
    tf = _tf()
    import keras

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    mean = train_set.X.mean(axis=0)
    std = np.maximum(train_set.X.std(axis=0), STD_FLOOR)
    xs, xv = standardize(train_set.X, mean, std), standardize(val_set.X, mean, std)
    ys = np.concatenate([train_set.Y, train_set.M], axis=1)
    yv = np.concatenate([val_set.Y, val_set.M], axis=1)

    inputs = keras.Input(shape=(train_set.X.shape[1],), name="features")
    x = inputs
    for units in HIDDEN:
        x = keras.layers.Dense(units, activation="relu")(x)
    outputs = keras.layers.Dense(len(LABEL_NAMES), activation="sigmoid", name="labels")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=masked_bce)

    class Report(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if on_epoch:
                on_epoch(epoch + 1, epochs, dict(logs or {}))

    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience,
                                         restore_best_weights=True)
    from posture_monitor.core.common.native_log import quiet_native_stderr

    with quiet_native_stderr():  # tf.data notices at start-up
        hist = model.fit(xs, ys, validation_data=(xv, yv), epochs=epochs, batch_size=batch,
                         shuffle=True, verbose=0, callbacks=[stop, Report()])
    history = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    return Trained(model, mean.astype(np.float32), std.astype(np.float32),
                   len(history["loss"]), history)


def float_predict(trained: Trained, X: np.ndarray) -> np.ndarray:
    xs = standardize(X, trained.mean, trained.std)
    return np.asarray(trained.model.predict(xs, verbose=0, batch_size=4096))


def to_int8_tflite(trained: Trained, representative: np.ndarray, seed: int = 0) -> bytes:
    """Full-integer quantization: int8 weights, activations, input and output.

    The representative set is standardized training features, the input the runtime
    will give the model; 500 rows cover its range well for a 96-feature MLP."""
    tf = _tf()
    rng = np.random.default_rng(seed)
    rows = representative[rng.choice(len(representative), min(500, len(representative)),
                                     replace=False)]
    xs = standardize(rows, trained.mean, trained.std)

    def rep():
        for row in xs:
            yield [row[None, :].astype(np.float32)]

    import tempfile

    # Keras 3 models convert reliably through a SavedModel (a concrete function keeps
    # resource variables the int8 calibrator cannot read).
    with tempfile.TemporaryDirectory() as tmp:
        from posture_monitor.core.common.native_log import quiet_native_stderr

        with quiet_native_stderr():  # the converter logs every pass to stderr
            trained.model.export(tmp, format="tf_saved_model", verbose=False)
            converter = tf.lite.TFLiteConverter.from_saved_model(tmp)
            return _convert(tf, converter, rep)


def _convert(tf, converter, rep) -> bytes:
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = rep
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()
