import os
import sys
import tempfile
from pathlib import Path

import pytest

# Qt tests run without a display; must be set before any Qt import.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Settings and profiles of test runs never land in the user's own folders.
_PRIVATE = tempfile.mkdtemp(prefix="posture-monitor-tests-")
os.environ.setdefault("POSTURE_MONITOR_DATA_HOME", os.path.join(_PRIVATE, "data"))

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEATED = FIXTURES / "seated_side_mit"
sys.path.insert(0, str(ROOT / "tools"))


def read_rows(path: Path) -> list[dict]:
    import csv

    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="session")
def media_dir() -> Path:
    """Real test videos, fetched from pinned PyPI wheels and checked by sha256."""
    from fetch_test_media import fetch

    return fetch()


@pytest.fixture(scope="session")
def sports2d_video(media_dir) -> Path:
    return media_dir / "sports2d_demo.mp4"


@pytest.fixture(scope="session")
def full_model():
    from posture_monitor.core.vision.model_files import resolve_pose_model

    return resolve_pose_model("full")


@pytest.fixture
def make_window(qtbot, tmp_path):
    """The real main window (offscreen) with private settings, sessions and profiles;
    every window is closed afterwards and must leave no engine thread running."""
    import threading

    from posture_monitor.core.records.app_settings import AppSettings
    from posture_monitor.gui.main_window import MainWindow

    windows = []

    def make(source=None, factory=None, run_only=None, **settings):
        settings.setdefault("model", "lite")
        w = MainWindow(AppSettings(**settings), source, tmp_path / "sessions",
                       tmp_path / "settings.json", source_factory=factory,
                       profiles_path=tmp_path / "profiles.json",
                       store_path=tmp_path / "store.sqlite3", run_only=run_only)
        qtbot.addWidget(w)
        w.show()
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.close()
    assert not [t for t in threading.enumerate() if t.name in ("capture", "analysis")]


@pytest.fixture(scope="session")
def desk_webcam_dir() -> Path:
    """Real desk webcam clips (BSD-2-Clause), committed: see its README.md."""
    return FIXTURES / "desk_webcam_bsd2"
