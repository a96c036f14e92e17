"""The real window on a real X server (Xvfb, Qt's xcb platform), started as a user would,
and the one-line answer when a library of Qt's xcb plugin cannot be loaded."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from posture_monitor.core.common.errors import EXIT_USAGE, UserError
from posture_monitor.core.common.resources import sample_video
from posture_monitor.gui.platform_check import (
    XCB_LIBRARIES,
    check_qt_platform,
    missing_libraries,
    qt_platform,
)
from tests.conftest import FIXTURES, ROOT

ABSENT = "libposture-monitor-absent.so.9"  # no such library anywhere


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("posture-monitor")  # the installed command
    return [str(script)] if script.exists() else [sys.executable, "-m", "posture_monitor"]


def _xcb_env(display: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY",
                                                           "XDG_SESSION_TYPE")}
    # conftest.py chose offscreen for the in-process tests: these run on X11.
    env.update(QT_QPA_PLATFORM="xcb", DISPLAY=display,
               POSTURE_MONITOR_DATA_HOME=str(tmp_path / "data"), **extra)
    return env


def test_platform_follows_qt_variables():
    assert qt_platform({"QT_QPA_PLATFORM": "offscreen"}, "linux") == "offscreen"
    assert qt_platform({"QT_QPA_PLATFORM": "xcb:nograb"}, "linux") == "xcb"
    assert qt_platform({"DISPLAY": ":0"}, "linux") == "xcb"
    assert qt_platform({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, "linux") == "wayland"
    assert qt_platform({}, "win32") is None
    check_qt_platform({"QT_QPA_PLATFORM": "offscreen"}, "linux",
                      {**XCB_LIBRARIES, ABSENT: "x"})  # not xcb: nothing to check


def test_a_library_that_cannot_be_found_is_named_with_its_package():
    assert missing_libraries(["libc.so.6", ABSENT]) == [ABSENT]
    libraries = {**XCB_LIBRARIES, ABSENT: "posture-monitor-absent1"}
    with pytest.raises(UserError) as err:
        check_qt_platform({"DISPLAY": ":0"}, "linux", libraries)
    message = str(err.value)
    assert "\n" not in message and ABSENT in message
    assert "sudo apt-get install " in message and "posture-monitor-absent1" in message
    with pytest.raises(UserError, match="DISPLAY is not set"):
        check_qt_platform({"QT_QPA_PLATFORM": "xcb"}, "linux", libraries)


def _broken_cursor_lib(tmp_path: Path) -> Path:
    """A folder whose libxcb-cursor.so.0 is not a library: put first on LD_LIBRARY_PATH,
    the loader stops there, for Qt as for the check, as on a machine without it."""
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "libxcb-cursor.so.0").write_bytes(b"not a library")
    return folder


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt's xcb is Linux only")
@pytest.mark.parametrize("command", [["gui"], []], ids=["gui", "start"])
def test_missing_xcb_library_is_one_line_and_exit_2(tmp_path, command):
    env = _xcb_env(":0", tmp_path, LD_LIBRARY_PATH=str(_broken_cursor_lib(tmp_path)))
    args = [*command, "--source", str(sample_video())]
    proc = subprocess.run([*_cli(), *args], env=env, capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert proc.returncode == EXIT_USAGE, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "libxcb-cursor.so.0" in lines[0] and "sudo apt-get install libxcb-cursor0" in lines[0]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt's xcb is Linux only")
def test_qt_alone_aborts_in_the_same_setup(tmp_path):
    """The control: without the check, Qt itself gives up with SIGABRT (exit 134)."""
    env = _xcb_env(":0", tmp_path, LD_LIBRARY_PATH=str(_broken_cursor_lib(tmp_path)))
    code = "from PySide6.QtWidgets import QApplication; QApplication([])"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == -signal.SIGABRT, proc.stderr
    assert 'Could not load the Qt platform plugin "xcb"' in proc.stderr


@pytest.fixture
def xvfb():
    """A fresh Xvfb on a display number it picks itself (others may run theirs)."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb (Debian package xvfb) is not installed; make test installs it "
                    "with apt-get where it can")
    missing = missing_libraries(XCB_LIBRARIES)
    if missing:
        pytest.skip(f"Qt's X11 libraries are missing ({', '.join(missing)}); make test "
                    "installs them with apt-get where it can")
    read, write = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24",
                               "-nolisten", "tcp"], pass_fds=(write,),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.close(write)
    number = b""
    while not number.endswith(b"\n"):  # written once the server accepts clients
        chunk = os.read(read, 16)
        if not chunk:
            break
        number += chunk
    os.close(read)
    if not number.strip().isdigit():
        server.kill()
        pytest.fail(f"Xvfb did not start: {server.communicate()[1]!r}")
    yield f":{number.decode().strip()}"
    server.terminate()
    server.wait(timeout=10)


GRAB = """
import sys
from PySide6.QtGui import QGuiApplication
app = QGuiApplication(sys.argv[:1])
assert app.platformName() == "xcb", app.platformName()
assert app.primaryScreen().grabWindow(0).save(sys.argv[1])  # window 0: the X root window
"""


def _screenshot(display: str, path: Path, tmp_path: Path) -> np.ndarray:
    """The whole X screen, read back from the server by another X client."""
    subprocess.run([sys.executable, "-c", GRAB, str(path)], env=_xcb_env(display, tmp_path),
                   check=True, timeout=60, capture_output=True)
    return imread(str(path))[..., :3]


def _video_area(screen: np.ndarray) -> np.ndarray:
    """The upper left of the screen: inside the video view of the 1280 x 800 window, which
    with no window manager sits at 0, 0 (the side panel, plots and status bar are not)."""
    h, w = screen.shape[:2]
    return screen[int(0.08 * h):int(0.48 * h), :int(0.68 * w)]


@contextmanager
def real_window(args: list[str], env: dict, cwd: Path):
    """The program started as a user starts it, on the X server; killed if the test fails
    before it is closed."""
    app = subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    try:
        yield app
    finally:
        if app.poll() is None:
            app.kill()
            app.communicate()


def close_window(app: subprocess.Popen) -> tuple[str, str]:
    """Close it the way a desktop does (SIGTERM); it must end with exit 0. Its output."""
    assert app.poll() is None, app.communicate()[1]
    app.send_signal(signal.SIGTERM)
    out, err = app.communicate(timeout=60)
    assert app.returncode == 0, err
    return out, err


def keep_screenshot(shot: Path, name: str) -> None:
    """With POSTURE_MONITOR_SAVE_SCREENSHOTS=1 the screenshot becomes docs/<name>."""
    if os.environ.get("POSTURE_MONITOR_SAVE_SCREENSHOTS") == "1" and shot.exists():
        shutil.copyfile(shot, ROOT / "docs" / name)


def rewrite_clip(src: Path, out: Path, fps: float | None = None,
                 hold_s: float = 0.0, edit=None) -> Path:
    """The frames of `src` written again at `fps` (default its own), the last one held
    `hold_s` more: a clip that plays long enough to be watched. `edit(index, frame)`, if
    given, returns the frame to write instead (e.g. blacked out)."""
    import cv2

    reader = cv2.VideoCapture(str(src))
    fps = fps or reader.get(cv2.CAP_PROP_FPS)
    writer, last, index = None, None, 0
    while True:
        ok, frame = reader.read()
        if not ok:
            break
        if writer is None:
            h, w = frame.shape[:2]
            writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
        last = frame if edit is None else edit(index, frame)
        writer.write(last)
        index += 1
    for _ in range(round(hold_s * fps)):
        writer.write(last)
    reader.release()
    writer.release()
    return out


def _front_clip(request, tmp_path: Path) -> Path:
    desk = FIXTURES / "desk_webcam_bsd2" / "front_cam2.mp4"
    if desk.exists():
        return desk
    # pose2sim_cam02 is 1.7 s at 60 fps: the same frames at 10 fps last long enough to see
    # the picture change between two screenshots.
    media_dir = request.getfixturevalue("media_dir")  # fetched only when needed
    return rewrite_clip(media_dir / "pose2sim_cam02.mp4", tmp_path / "pose2sim_cam02_10fps.mp4",
                        fps=10)


def _wait_for_video(app, xvfb, tmp_path, timeout_s: float = 120.0):
    """The first screenshot with video on the screen (the window shows first, then the
    model loads), or the last one taken when `timeout_s` ran out."""
    deadline, shot = time.monotonic() + timeout_s, None
    while time.monotonic() < deadline:
        assert app.poll() is None, app.communicate()[1]
        shot = _screenshot(xvfb, tmp_path / "first.png", tmp_path)
        if _video_area(shot).std() > 0.05:
            break
        time.sleep(1)
    return shot


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Xvfb is Linux only")
def test_window_draws_and_plays_on_a_real_x_server(xvfb, request, tmp_path):
    clip = _front_clip(request, tmp_path)
    env = _xcb_env(xvfb, tmp_path)
    with real_window([*_cli(), "gui", "--source", str(clip), "--model", "lite"], env,
                     tmp_path) as app:
        first = _wait_for_video(app, xvfb, tmp_path)
        assert first is not None and first.std() > 0.1, "nothing drawn on the X screen"
        assert _video_area(first).std() > 0.05, "the window shows no video"
        # playing: the picture changes (looked for over up to 15 s: on a loaded machine
        # the display may skip ahead in bursts)
        deadline = time.monotonic() + 15
        while True:
            time.sleep(1)
            second = _screenshot(xvfb, tmp_path / "second.png", tmp_path)
            changed = np.abs(_video_area(second) - _video_area(first)).max(axis=2) > 0.05
            if changed.mean() > 0.01 or time.monotonic() > deadline:
                break
        assert _video_area(second).std() > 0.05
        assert changed.mean() > 0.01, "the picture did not change: the video is not playing"
        keep_screenshot(tmp_path / "second.png", "screenshot_xcb_front.png")
        _, err = close_window(app)
    assert "Traceback" not in err and "Fatal" not in err
    assert (tmp_path / "data" / "config" / "settings.json").exists()  # closed the normal way


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Xvfb is Linux only")
def test_exercise_mode_counts_the_real_squats_on_a_real_x_server(xvfb, tmp_path):
    """`gui --exercise squat` on the real side-view squat clip: the exercise panel is on
    the screen, its count changes, and at exit the window reports the two squats."""
    clip = FIXTURES / "exercise_side_mit" / "squat_side_barbell.mp4"
    env = _xcb_env(xvfb, tmp_path)
    with real_window([*_cli(), "gui", "--source", str(clip), "--model", "lite",
                      "--exercise", "squat"], env, tmp_path) as app:
        first = _wait_for_video(app, xvfb, tmp_path)
        assert first is not None and _video_area(first).std() > 0.05, "no video shown"
        # The clip (20.5 s) holds its last frame at the end: the picture stops changing.
        shown, last = time.monotonic(), first
        while time.monotonic() < shown + 120:
            time.sleep(1)
            shot = _screenshot(xvfb, tmp_path / "last.png", tmp_path)
            still = np.array_equal(_video_area(shot), _video_area(last))
            last = shot
            if still and time.monotonic() > shown + 15:
                break
        h, w = last.shape[:2]
        dock = last[:, int(0.56 * w):]  # the exercise panel: right of the portrait video
        assert (dock.max(axis=2) < 0.1).mean() > 0.2, "no plots in the exercise panel"
        count = (slice(int(0.15 * h), int(0.3 * h)), slice(int(0.56 * w), int(0.7 * w)))
        assert np.abs(last[count] - first[count]).max() > 0.3, "the count did not change"
        out, err = close_window(app)
    assert "Squat: 2 complete repetitions, 0 incomplete" in out.splitlines(), out
