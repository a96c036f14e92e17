"""Where the program keeps a user's files: one place, one documented override.

POSTURE_MONITOR_DATA_HOME (a folder) replaces the platform's user folders for everything
the program writes: the session database, profiles, the recordings and snapshots of the
window and the headless main job (the platform's data folder,
`~/.local/share/posture-monitor` on Linux), and the settings, which then live in
`<home>/config` instead of the platform's config folder (`~/.config/posture-monitor`).
One variable moves all of a user's state, so a test, a portable install or a second
person on one account never mixes its files with the default ones.

Shipped, read-only data (models, the sample clip) is found by core/common/resources.py
from the install itself and has no override: another pose model is `--model PATH`.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_DATA_DIR = "POSTURE_MONITOR_DATA_HOME"
APP_NAME = "posture-monitor"


def _override() -> Path | None:
    folder = os.environ.get(ENV_DATA_DIR)
    return Path(folder) if folder else None


def data_home() -> Path:
    return _override() or Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    """The settings folder: `<POSTURE_MONITOR_DATA_HOME>/config` when it is set."""
    home = _override()
    if home is not None:
        return home / "config"
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def sessions_dir() -> Path:
    """Recordings (CSV, JSON sidecar, optional video) and snapshots."""
    return data_home() / "sessions"
