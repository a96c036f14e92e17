"""Issue 11, finding 6: no damaged file loses what was recorded, and none breaks the program.

Settings and profiles: a reader survives anything in the file, and before a save would
drop content it could not read, the file is copied to a timestamped, user-only backup that
is never overwritten; the window names the copy. The session database: garbage pages are
found by SQLite's quick_check before a report or a write (one line, nothing written), and a
read-only data folder is opened read-only (lists and reports work, writes are refused).
"""

import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from posture_monitor.core.common.errors import UserError
from posture_monitor.core.posture.baseline import Baseline, MetricStats, Profile, ProfileStore
from posture_monitor.core.records.app_settings import AppSettings, load_settings, save_settings
from posture_monitor.core.records.samples import summarize
from posture_monitor.core.records.schema import DB_NAME
from posture_monitor.core.records.store import DamagedStoreError, SampleWriter, Store
from tests.conftest import ROOT, SEATED

CLI = [sys.executable, "-m", "posture_monitor"]
POSIX = os.name == "posix"
BIG = "1" + "0" * 400  # 10**400: a valid JSON number that no float holds
DEEP = "[" * 100_000  # json's RecursionError


def _backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + ".backup-*"))


def _one_line(text: str | None) -> None:
    assert text and "\n" not in text and len(text) < 600, text


# -- settings ------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    f'{{"camera_index": {BIG}}}', f'{{"min_visibility": {BIG}.5}}', '{"camera_fps": 1e400}',
    '{"min_visibility": NaN, "decision_threshold": -Infinity}', DEEP,
    '{"model": ' + "[" * 900 + "]" * 900 + "}", '{"grid": {"a": [1, 2]}, "model": 3}',
    '{"model": "' + "x" * 100_000 + '"}', "\ufeff{}",
])
def test_settings_reader_survives_huge_numbers_nesting_and_types(tmp_path, text):
    path = tmp_path / "settings.json"
    path.write_text(text, encoding="utf-8")
    settings, warning = load_settings(path)
    assert settings == settings.validated()
    _one_line(warning)
    assert str(path) in warning


def test_a_folder_at_the_settings_path_is_one_line_and_stays(tmp_path):
    path = tmp_path / "settings.json"
    path.mkdir()
    (path / "mine.txt").write_text("keep me")
    settings, warning = load_settings(path)
    assert settings == AppSettings()
    _one_line(warning)
    assert "folder" in warning
    with pytest.raises(UserError) as err:
        save_settings(AppSettings(grid=True), path)
    _one_line(str(err.value))
    assert path.is_dir() and (path / "mine.txt").read_text() == "keep me"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_pipe_at_the_settings_path_never_blocks_the_reader(tmp_path):
    path = tmp_path / "settings.json"
    os.mkfifo(path)  # reading it would wait for a writer forever
    code = ("from posture_monitor.core.records.app_settings import load_settings\n"
            f"print(load_settings({str(path)!r})[1])\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "not a regular file" in proc.stdout


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '{"plot_window_s": 5}',
                                  '{"grid": true, "from_a_newer_version": 1}'])
def test_settings_a_save_would_drop_are_copied_first(tmp_path, text):
    path = tmp_path / "settings.json"
    path.write_text(text, encoding="utf-8")
    settings, _ = load_settings(path)
    save_settings(settings, path)
    [copy] = _backups(path)
    assert copy.read_text(encoding="utf-8") == text
    if POSIX:
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert load_settings(path) == (settings, None)
    save_settings(settings, path)  # nothing to lose any more: no second copy
    assert _backups(path) == [copy]


def test_clean_settings_files_are_saved_without_a_copy(tmp_path):
    path = tmp_path / "settings.json"
    save_settings(AppSettings(grid=True), path)
    save_settings(AppSettings(grid=False), path)
    path.write_text(json.dumps({"grid": True}))  # an older version's file: keys missing
    save_settings(load_settings(path)[0], path)
    path.write_text("")  # empty: nothing to keep
    save_settings(AppSettings(), path)
    assert _backups(path) == []


def test_an_earlier_copy_is_never_overwritten(tmp_path, monkeypatch):
    import posture_monitor.core.common.private_files as private_files

    monkeypatch.setattr(private_files.time, "strftime", lambda fmt: "20260101-120000")
    path = tmp_path / "settings.json"
    earlier = tmp_path / "settings.json.backup-20260101-120000"
    earlier.write_text("an earlier copy")
    for n, text in enumerate(["{damaged one", "{damaged two"], start=2):
        path.write_text(text)
        save_settings(AppSettings(), path)
        assert (tmp_path / f"settings.json.backup-20260101-120000-{n}").read_text() == text
    path.write_text("{damaged one")  # the same damage again: its copy exists already
    save_settings(AppSettings(), path)
    assert earlier.read_text() == "an earlier copy" and len(_backups(path)) == 3


# -- profiles ------------------------------------------------------------------------------

def _baseline_dict(**kw) -> dict:
    b = Baseline("2026-01-01T00:00:00+00:00", "left",
                 {"torso_incl_deg": MetricStats(-10.0, 1.0, 25)}, 0.1, (0.6, 0.3),
                 {"description": "cam A", "width": 640, "height": 480})
    return b.to_dict() | kw


def _entry(person: str, **kw) -> dict:
    return {"person": person, "camera": "cam A", "baseline": _baseline_dict(**kw)}


def test_partly_damaged_profiles_are_copied_before_a_save(tmp_path):
    path = tmp_path / "profiles.json"
    text = json.dumps({"version": 1, "profiles": [
        _entry("p01"), _entry("p02", scale=f"@{BIG}@"), _entry("p03", camera="cam B")]})
    text = text.replace(f'"@{BIG}@"', BIG)  # a 400-digit number, as a hand edit leaves it
    path.write_text(text, encoding="utf-8")
    store = ProfileStore(path)
    assert [p.person for p in store.list()] == ["p01"]
    assert "skipped 2" in store.warning
    assert path.read_text(encoding="utf-8") == text  # reading changes nothing
    store.save(Profile("p04", "cam A"))
    [copy] = _backups(path)
    assert copy.read_text(encoding="utf-8") == text and store.backup == copy
    if POSIX:
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert [p.person for p in store.list()] == ["p01", "p04"] and store.warning is None
    store.save(Profile("p05", "cam A"))  # the file is whole now: no further copy
    assert _backups(path) == [copy]


@pytest.mark.parametrize("text", [
    DEEP, '{"profiles": ' + DEEP + "}", '{"profiles": [' + "[" * 900 + "]" * 900 + "]}",
    json.dumps({"profiles": [_entry("p", scale=float("nan"))]}),
    json.dumps({"profiles": [_entry("p", position=[0.5, float("inf")])]}),
    json.dumps({"profiles": [_entry("p", camera={"description": "cam A"})]}),
    json.dumps({"profiles": [_entry("p", metrics={"cva_deg": {"median": 1, "spread": 1,
                                                             "n": 1e400}})]}),
    json.dumps({"profiles": [{"person": ["p"], "camera": {"c": 1}}]}),
])
def test_profile_reader_survives_huge_numbers_nesting_and_types(tmp_path, text):
    path = tmp_path / "profiles.json"
    path.write_text(text.replace('"@BIG@"', BIG), encoding="utf-8")
    store = ProfileStore(path)
    assert store.list() == []
    _one_line(store.warning)


def test_a_folder_at_the_profiles_path_is_one_line_and_stays(tmp_path):
    path = tmp_path / "profiles.json"
    path.mkdir()
    store = ProfileStore(path)
    assert store.list() == []
    _one_line(store.warning)
    with pytest.raises(UserError) as err:
        store.save(Profile("p01", "cam A"))
    _one_line(str(err.value))
    assert path.is_dir()


# -- the window ----------------------------------------------------------------------------

def test_the_window_names_the_copy_of_a_damaged_profiles_file(make_window, tmp_path):
    text = json.dumps({"profiles": [_entry("default"), {"person": "p02"}]})
    (tmp_path / "profiles.json").write_text(text, encoding="utf-8")
    w = make_window("7")
    [copy] = _backups(tmp_path / "profiles.json")
    assert copy.read_text(encoding="utf-8") == text
    assert w.file_banner.isVisible()
    assert "skipped 1" in w.file_banner.text() and str(copy) in w.file_banner.text()
    w.show_banner("warn", "Camera lost")  # passing banners do not hide the file banner
    assert w.file_banner.isVisible() and str(copy) in w.file_banner.text()


def test_run_gui_names_the_copy_of_damaged_settings(qapp, tmp_path, monkeypatch):
    from PySide6.QtCore import QTimer

    from posture_monitor.gui.main import run_gui
    from posture_monitor.gui.main_window import MainWindow

    monkeypatch.setenv("POSTURE_MONITOR_DATA_HOME", str(tmp_path / "data"))
    settings = tmp_path / "data" / "config" / "settings.json"  # follows the data home
    settings.parent.mkdir(parents=True)
    text = f'{{"camera_index": {BIG}, "grid": true}}'
    settings.write_text(text)
    seen = []

    def look():
        shown = [w for w in qapp.topLevelWidgets() if isinstance(w, MainWindow)
                 and w.isVisible()]
        if not shown:
            QTimer.singleShot(50, look)
            return
        seen.append(shown[0].file_banner.text())
        shown[0].close()

    QTimer.singleShot(0, look)
    assert run_gui("7") == 0
    [copy] = _backups(settings)
    assert copy.read_text() == text
    assert "camera_index=" in seen[0] and str(copy) in seen[0] and "\n" not in seen[0]
    saved, warning = load_settings(settings)  # saved at exit, the copy kept
    assert saved.grid is True and saved.camera_index == 0 and warning is None


def _window_run(tmp_path: Path, ready) -> tuple[int, str]:
    """`posture-monitor gui` offscreen with the files under tmp_path/config and
    tmp_path/data; once `ready()` (or after 90 s) and a moment more, SIGTERM: the exit
    code and stderr."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen",
               POSTURE_MONITOR_DATA_HOME=str(tmp_path / "data"))
    proc = subprocess.Popen([*CLI, "gui", "--source", "7"], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 90
    while proc.poll() is None and time.monotonic() < deadline and not ready():
        time.sleep(0.1)
    time.sleep(1.5)  # the window is up: let it run a moment
    assert proc.poll() is None, proc.communicate()[1]  # it started and is still running
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert "Traceback" not in err and "Fatal" not in err, err
    return proc.returncode, err


@pytest.mark.slow
def test_the_real_window_starts_with_damaged_settings_and_profiles(tmp_path):
    data = tmp_path / "data"
    config = data / "config"  # the settings follow POSTURE_MONITOR_DATA_HOME
    config.mkdir(parents=True)
    settings_text = f'{{"camera_index": {BIG}, "grid": true}}'
    profiles_text = '{"profiles": [' + "[" * 5000 + "]" * 5000 + "]}"
    (config / "settings.json").write_text(settings_text)
    (data / "profiles.json").write_text(profiles_text)
    rc, err = _window_run(tmp_path, lambda: _backups(config / "settings.json"))
    assert rc == 0, err
    [s_copy] = _backups(config / "settings.json")
    [p_copy] = _backups(data / "profiles.json")
    assert s_copy.read_text() == settings_text and p_copy.read_text() == profiles_text
    saved, warning = load_settings(config / "settings.json")
    assert saved.grid is True and saved.camera_index == 0 and warning is None


@pytest.mark.slow
def test_the_real_window_starts_with_a_folder_for_settings_and_says_so_once(tmp_path):
    data = tmp_path / "data"
    config = data / "config"
    (config / "settings.json").mkdir(parents=True)
    (data / "profiles.json").write_text(
        json.dumps({"profiles": [_entry("p", scale=float("nan"))]}))
    rc, err = _window_run(tmp_path, lambda: _backups(data / "profiles.json"))
    assert rc == 0, err
    lines = [line for line in err.splitlines() if "settings" in line]
    assert len(lines) == 1 and "is not a file" in lines[0], err
    assert (config / "settings.json").is_dir()


# -- the session database --------------------------------------------------------------------

def _stored(home: Path, sessions: int = 2, frames: int = 400) -> Path:
    """A real store with `sessions` sessions of patient P001, closed cleanly (no -wal)."""
    path = home / DB_NAME
    with Store(path) as store:
        store.add_patient("P001")
        for _ in range(sessions):
            sid = store.start_session("P001", "camera 0", "lite", {"model": "lite"})
            writer = SampleWriter(store, sid)
            for i in range(frames):
                writer.add({"frame": i, "time_s": i / 10, "view": "left", "cva_deg": 50.0 + i,
                            "torso_incl_deg": -12.5, "alert_state": "ok"})
            writer.close()
            store.finish_session(sid, summarize(store.samples(sid)))
    return path


def _damage(path: Path) -> None:
    """Garbage bytes over the root page of the samples table, as a disk error leaves it."""
    with sqlite3.connect(path) as c:
        size = c.execute("PRAGMA page_size").fetchone()[0]
        root = c.execute("SELECT rootpage FROM sqlite_master WHERE name = 'samples'"
                         ).fetchone()[0]
    c.close()
    assert root > 1 and not Path(f"{path}-wal").exists()
    with open(path, "r+b") as fh:
        fh.seek((root - 1) * size)
        fh.write(random.Random(11).randbytes(size))
    c = sqlite3.connect(path)
    try:  # the file is honestly damaged: SQLite's own check says so, or fails on it
        assert c.execute("PRAGMA quick_check").fetchall() != [("ok",)]
    except sqlite3.DatabaseError:
        pass
    finally:
        c.close()


def _digest(folder: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture
def damaged_home(tmp_path) -> Path:
    home = tmp_path / "data"
    home.mkdir()
    _damage(_stored(home))
    return home


def _cli(home: Path, *args) -> subprocess.CompletedProcess:
    env = dict(os.environ, POSTURE_MONITOR_DATA_HOME=str(home))
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=300)


def _damage_line(proc: subprocess.CompletedProcess, home: Path) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert str(home / DB_NAME) in line and "damaged" in line
    assert "keep a copy" in line and "will not write into it" in line


def test_damaged_database_stops_reports_and_writes(damaged_home, tmp_path):
    before = _digest(damaged_home)
    _damage_line(_cli(damaged_home, "report", "--session", "1", "--pdf", tmp_path / "r.pdf"),
                 damaged_home)
    _damage_line(_cli(damaged_home, "report", "--patient", "P001", "--pdf",
                      tmp_path / "p.pdf"), damaged_home)
    _damage_line(_cli(damaged_home, "analyze", SEATED / "recline.jpg", "--out",
                      tmp_path / "out", "--model", "lite", "--classifier", "none", "--save",
                      "--patient", "P001", "--quiet"), damaged_home)
    _damage_line(_cli(damaged_home, "patients", "--add", "P002"), damaged_home)
    assert not (tmp_path / "r.pdf").exists() and not (tmp_path / "p.pdf").exists()
    assert _digest(damaged_home) == before  # not a byte written into it


def test_a_read_that_meets_a_garbage_page_is_one_line(damaged_home):
    with Store(damaged_home / DB_NAME) as store:
        assert [s["id"] for s in store.sessions()] == [2, 1]  # what is readable still is
        with pytest.raises(DamagedStoreError) as err:
            store.samples(1)
        assert "\n" not in str(err.value) and "damaged" in str(err.value)
        with pytest.raises(DamagedStoreError):
            store.add_patient("P002")


def test_a_damaged_database_costs_the_window_only_history_and_recording(make_window,
                                                                         tmp_path):
    path = _stored(tmp_path)
    path.rename(tmp_path / "store.sqlite3")  # where make_window keeps its store
    _damage(tmp_path / "store.sqlite3")
    before = _digest(tmp_path)
    w = make_window("7")
    assert w.store is None
    assert w.file_banner.isVisible() and "damaged" in w.file_banner.text()
    assert "History and recording are off" in w.file_banner.text()
    assert not w.record_action.isEnabled() and not w.history_action.isEnabled()
    w.open_history()  # a stray shortcut does nothing
    w.close()
    after = _digest(tmp_path)
    assert {k: after[k] for k in before} == before


# -- a read-only data folder (a read-only bind mount in a private mount namespace) ----------

def _read_only_skip() -> str | None:
    if not POSIX or os.geteuid() != 0 or shutil.which("unshare") is None:
        return "needs root and unshare for a read-only bind mount (root ignores mode bits)"
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount --bind / / && "
                            "mount -o remount,ro,bind / /"], capture_output=True)
    return None if probe.returncode == 0 else "mount namespaces are not allowed here"


READ_ONLY_SKIP = _read_only_skip()
DRIVER = """
import json, subprocess, sys
runs = [subprocess.run(args, capture_output=True, text=True) for args in json.loads(sys.argv[1])]
print(json.dumps([[r.returncode, r.stdout, r.stderr] for r in runs]))
"""


def _as_read_only(folder: Path, *commands: list) -> list:
    """Run `commands` (argument lists) where `folder` is a read-only mount of itself; the
    mount lives in a private namespace and ends with it: nothing to clean up."""
    mount = (f"mount --bind '{folder}' '{folder}' && "
             f"mount -o remount,ro,bind '{folder}' '{folder}' && exec \"$@\"")
    proc = subprocess.run(["unshare", "-m", "sh", "-c", mount, "sh", sys.executable, "-c",
                           DRIVER, json.dumps([[str(a) for a in c] for c in commands])],
                          capture_output=True, text=True, cwd=ROOT, timeout=600,
                          env=dict(os.environ, POSTURE_MONITOR_DATA_HOME=str(folder),
                                   QT_QPA_PLATFORM="offscreen"))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.skipif(READ_ONLY_SKIP is not None, reason=READ_ONLY_SKIP or "")
def test_a_read_only_data_folder_is_read_not_reported_broken(tmp_path):
    home = tmp_path / "data"
    home.mkdir()
    _stored(home, frames=50)
    before = _digest(home)
    pdf = tmp_path / "report.pdf"
    listed, shown, report, add, save = _as_read_only(
        home, [*CLI, "sessions", "list"], [*CLI, "sessions", "show", "1"],
        [*CLI, "report", "--session", "1", "--pdf", pdf],
        [*CLI, "patients", "--add", "P002"],
        [*CLI, "analyze", SEATED / "recline.jpg", "--out", tmp_path / "out", "--model",
         "lite", "--classifier", "none", "--save", "--patient", "P001", "--quiet"])
    assert listed[0] == 0 and len(listed[1].strip().splitlines()) == 2, listed[2]
    assert shown[0] == 0 and json.loads(shown[1])["patient_id"] == "P001", shown[2]
    assert report[0] == 0 and pdf.stat().st_size > 1000, report[2]
    for rc, _, err in (add, save):
        assert rc == 2 and "Traceback" not in err, err
        [line] = err.strip().splitlines()
        assert f"{home} is read-only" in line and "move it aside" not in line
    assert _digest(home) == before


WINDOW = """
import gc, json, sys
from pathlib import Path
from PySide6.QtWidgets import QApplication
from posture_monitor.core.records.app_settings import AppSettings
from posture_monitor.gui.main_window import MainWindow
app = QApplication([])
tmp, home = Path(sys.argv[1]), Path(sys.argv[2])
w = MainWindow(AppSettings(), "7", tmp / "sessions", tmp / "settings.json",
               profiles_path=home / "profiles.json", store_path=home / "posture-monitor.sqlite3")
w.show()
app.processEvents()
sessions = len(w.store.sessions()) if w.store else None
print(json.dumps([w.file_banner.text(), w.record_action.isEnabled(),
                  w.history_action.isEnabled(), sessions]), flush=True)
w.close()
w.deleteLater()  # torn down while Qt lives, as run_gui does
app.processEvents()
del w
gc.collect()
app.shutdown()
"""


@pytest.mark.skipif(READ_ONLY_SKIP is not None, reason=READ_ONLY_SKIP or "")
def test_a_read_only_data_folder_turns_window_recording_off_and_keeps_history(tmp_path):
    home = tmp_path / "data"
    home.mkdir()
    _stored(home, frames=50)
    [(rc, out, err)] = _as_read_only(home, [sys.executable, "-c", WINDOW, tmp_path, home])
    assert rc == 0 and "Traceback" not in err, err
    banner, recording, history, sessions = json.loads(out.strip().splitlines()[-1])
    assert "read-only" in banner and "recording is off" in banner
    assert recording is False and history is True and sessions == 2
