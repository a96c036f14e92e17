"""Find shipped data (models, assets) the same way in every kind of install.

Layouts, searched in order:
  * wheel:       <site-packages>/posture_monitor/_data/{models,assets} (force-included
                 by pyproject.toml)
  * frozen:      <sys._MEIPASS>/posture_monitor/_data/... as laid out by packaging/
  * source tree / editable install: <repo>/{models,assets} beside the package
No environment override: a user's own pose model is `--model PATH`, and the one
override of the program (POSTURE_MONITOR_DATA_HOME, core/common/paths.py) is for what it
writes, not for what it ships.
"""

from __future__ import annotations

import sys
from pathlib import Path

# this file: posture_monitor/core/common/resources.py
_PACKAGE_DIR = Path(__file__).resolve().parents[2]


def _candidates() -> list[Path]:
    roots: list[Path] = []
    roots.append(_PACKAGE_DIR / "_data")
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        roots.append(Path(frozen_root) / "posture_monitor" / "_data")
    roots.append(_PACKAGE_DIR.parent)
    return roots


def data_dir(kind: str) -> Path:
    """Return the folder for `kind` ("models" or "assets"); first existing candidate wins."""
    for root in _candidates():
        path = root / kind
        if path.is_dir():
            return path
    # Not found anywhere: return the source-tree location so error messages name a real place.
    return _PACKAGE_DIR.parent / kind


def models_dir() -> Path:
    return data_dir("models")


def assets_dir() -> Path:
    return data_dir("assets")


def sample_video() -> Path:
    """The bundled real clip played when there is no camera."""
    return assets_dir() / "sample" / "pose2sim_cam02.mp4"
