"""About box: versions and model checksums, so a result can be traced to exact software."""

from __future__ import annotations

import html
import platform
from importlib.metadata import PackageNotFoundError, version

from PySide6.QtWidgets import QMessageBox, QWidget

from posture_monitor import __version__
from posture_monitor.core.classify.classifier import resolve_classifier
from posture_monitor.core.common.errors import ModelError
from posture_monitor.core.common.hashing import file_sha256_cached
from posture_monitor.core.vision.model_files import POSE_MODELS, resolve_pose_model

PRIVACY = "Everything runs on this computer; no frame, number or name leaves it."
NOT_MEDICAL = "Not a medical device; readings are not a diagnosis."
# Display name -> distributions that provide it (PySide6 usually comes as PySide6-Essentials).
PACKAGES = {
    "mediapipe": ("mediapipe",),
    "PySide6": ("PySide6", "PySide6-Essentials"),
    "pyqtgraph": ("pyqtgraph",),
    "numpy": ("numpy",),
    "ai-edge-litert": ("ai-edge-litert",),
}


def package_version(*distributions: str) -> str:
    for dist in distributions:
        try:
            return version(dist)
        except PackageNotFoundError:
            continue
    return "not installed"


def _sha256_or_reason(resolve) -> str:
    # A missing model must not stop the About box: it is where the user checks for that.
    try:
        return file_sha256_cached(resolve())
    except (ModelError, OSError) as exc:
        return f"unavailable ({exc})"


def about_text() -> str:
    rows = [("Python", platform.python_version())]
    rows += [(name, package_version(*dists)) for name, dists in PACKAGES.items()]
    rows += [(f"Pose model {name} sha256",
              _sha256_or_reason(lambda name=name: resolve_pose_model(name).path))
             for name in POSE_MODELS]
    rows.append(("Classifier sha256", _sha256_or_reason(resolve_classifier)))
    table = "".join(f"<tr><td>{html.escape(k)}</td><td><code>{html.escape(v)}</code></td></tr>"
                    for k, v in rows)
    return (f"<h3>Posture Monitor {html.escape(__version__)}</h3>"
            f"<p>{html.escape(PRIVACY)}<br>{html.escape(NOT_MEDICAL)}</p>"
            f"<table>{table}</table>")


def show_about(parent: QWidget | None = None) -> None:
    QMessageBox.about(parent, "About Posture Monitor", about_text())
