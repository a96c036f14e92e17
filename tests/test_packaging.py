"""The wheel carries the models and assets and works from an empty virtual environment."""

import os
import subprocess
import sys
import zipfile

import pytest

from posture_monitor.core.common.offline import environment_for_children
from tests.conftest import ROOT, read_rows


@pytest.mark.slow
def test_wheel_installs_into_an_empty_venv_and_analyzes_a_real_video(tmp_path,
                                                                      sports2d_video):
    wheels = tmp_path / "wheels"
    # pip reaches PyPI: with the user's proxy settings, not the closed loopback port that an
    # earlier in-process MediaPipe test put into this process (core/common/offline.py)
    net = environment_for_children()
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(wheels),
                    str(ROOT)], check=True, capture_output=True, timeout=600, env=net)
    (wheel,) = wheels.glob("posture_monitor-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for member in ("posture_monitor/_data/models/pose_landmarker_full.task",
                   "posture_monitor/_data/models/pose_landmarker_lite.task",
                   "posture_monitor/_data/models/posture_classifier.tflite",
                   "posture_monitor/_data/models/posture_classifier.json",
                   "posture_monitor/_data/assets/sample/pose2sim_cam02.mp4",
                   "posture_monitor/_data/assets/icons/posture-monitor.svg"):
        assert member in names, member
    assert not [n for n in names if n.startswith("tests/")]
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                          str(wheel)], capture_output=True, text=True, timeout=900, env=net)
    assert pip.returncode == 0, pip.stderr[-2000:]
    work = tmp_path / "elsewhere"  # far from the source tree: only the wheel's data counts
    work.mkdir()
    proc = subprocess.run([str(venv / "bin" / "posture-monitor"), "analyze",
                           str(sports2d_video), "--out", str(work / "out"), "--model", "lite",
                           "--quiet"], capture_output=True, text=True, cwd=work, timeout=600)
    assert proc.returncode == 0, proc.stderr
    rows = read_rows(work / "out" / "sports2d_demo.csv")
    assert len(rows) == 230 and sum(r["posture_label"] != "" for r in rows) > 50
    where = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "from posture_monitor.core.common.resources import models_dir; "
                            "print(models_dir())"], capture_output=True, text=True, cwd=work)
    assert str(venv) in where.stdout  # the models came from the installed wheel


@pytest.mark.slow
def test_frozen_build_analyzes_without_python_on_path(tmp_path):
    """`make dist`'s PyInstaller build, then the frozen `analyze` with a bare PATH."""
    dist, work = tmp_path / "dist", tmp_path / "build"
    pyinstaller = os.path.join(os.path.dirname(sys.executable), "pyinstaller")
    build = subprocess.run([pyinstaller, "--noconfirm", "--distpath", str(dist), "--workpath",
                            str(work), str(ROOT / "packaging" / "posture_monitor.spec")],
                           capture_output=True, text=True, cwd=ROOT, timeout=1200)
    assert build.returncode == 0, build.stderr[-3000:]
    exe = dist / "posture-monitor" / "posture-monitor"
    out = tmp_path / "out"
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run([str(exe), "analyze", str(ROOT / "assets/sample/pose2sim_cam02.mp4"),
                           "--out", str(out), "--model", "full", "--quiet"],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    rows = read_rows(out / "pose2sim_cam02.csv")
    assert len(rows) == 100 and any(r["posture_label"] for r in rows)  # classifier ran
    bad = subprocess.run([str(exe), "analyze", str(tmp_path / "missing.mp4"), "--out",
                          str(out)], capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 2 and "not found" in bad.stderr  # same one-line errors
