"""Where the program keeps a user's data: one place, one documented override.

POSTURE_MONITOR_DATA_HOME (a folder) replaces the platform's user data folder
(`~/.local/share/posture-monitor` on Linux) for everything the program stores there:
the session database, profiles, and the recordings and snapshots of the window and the
headless main job.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_DATA_DIR = "POSTURE_MONITOR_DATA_HOME"


def data_home() -> Path:
    return Path(os.environ.get(ENV_DATA_DIR) or platformdirs.user_data_dir(
        "posture-monitor", appauthor=False))


def sessions_dir() -> Path:
    """Recordings (CSV, JSON sidecar, optional video) and snapshots."""
    return data_home() / "sessions"
