"""Every file and folder the program writes is user-only, whatever the user's umask, and
the window's and the main job's recordings honour POSTURE_MONITOR_DATA_HOME."""

import os
import stat
import subprocess
import sys

import pytest

from posture_monitor.core.common.paths import sessions_dir
from tests.conftest import ROOT, read_rows

CLI = [sys.executable, "-m", "posture_monitor"]
SAMPLE = ROOT / "assets" / "sample" / "pose2sim_cam02.mp4"
pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


def _run_with_umask_022(*args, env=None):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True,
                          timeout=300, env=env, preexec_fn=lambda: os.umask(0o022))


def _assert_user_only(root):
    seen = 0
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            mode = stat.S_IMODE(os.stat(os.path.join(folder, name)).st_mode)
            assert mode & 0o077 == 0, f"{os.path.join(folder, name)} is {oct(mode)}"
            seen += 1
    assert seen


@pytest.mark.slow
def test_analyze_output_is_user_only_under_umask_022(tmp_path):
    out = tmp_path / "results" / "nested"  # folders created on the way count too
    proc = _run_with_umask_022("analyze", SAMPLE, "--out", out, "--quiet", "--max-frames", "20",
                              "--classifier", "none")
    assert proc.returncode == 0, proc.stderr
    assert len(read_rows(out / "pose2sim_cam02.csv")) == 20
    _assert_user_only(tmp_path / "results")


@pytest.mark.slow
def test_headless_main_job_writes_user_only_into_the_data_home(tmp_path):
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    env["POSTURE_MONITOR_DATA_HOME"] = str(home)
    proc = _run_with_umask_022("--source", SAMPLE, "--classifier", "none", env=env)  # headless
    assert proc.returncode == 0, proc.stderr
    assert list((home / "sessions").glob("*.csv"))  # not the system's data folder
    _assert_user_only(home)


def test_sessions_folder_follows_the_data_home(monkeypatch, tmp_path):
    monkeypatch.setenv("POSTURE_MONITOR_DATA_HOME", str(tmp_path))
    assert sessions_dir() == tmp_path / "sessions"
