"""Exercise mode's audio cues (gui/cues.py): which speech engine is used and how it is
started (an argument list, no shell, never waited for), and the beep when there is none."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from posture_monitor.gui.cues import SPEECH_RATE_WPM, CuePlayer, speech_command


def _which(*found: str):
    return lambda name: f"/usr/bin/{name}" if name in found else None


def test_speech_command_prefers_espeak_ng_and_keeps_the_words_one_argument():
    rate = str(SPEECH_RATE_WPM)
    assert speech_command("Chest up", "linux", _which("espeak-ng", "espeak")) == [
        "/usr/bin/espeak-ng", "-s", rate, "--", "Chest up"]
    assert speech_command("Rep 3", "linux", _which("espeak")) == [
        "/usr/bin/espeak", "-s", rate, "--", "Rep 3"]
    assert speech_command("Rep 3", "darwin", _which("say")) == [
        "/usr/bin/say", "-r", rate, "Rep 3"]
    # "--": words that look like an option are still words
    assert speech_command("-w /tmp/x", "linux", _which("espeak-ng"))[-2:] == ["--", "-w /tmp/x"]
    assert speech_command("Rep 3", "linux", _which()) is None
    assert speech_command("Rep 3", "win32", _which("espeak-ng", "say")) is None


class _Process:
    def __init__(self) -> None:
        self.running, self.terminated = True, False

    def poll(self):
        return None if self.running else 0

    def terminate(self) -> None:
        self.terminated, self.running = True, False

    def wait(self, timeout=None):  # the GUI thread must never wait on the engine
        raise AssertionError("waited for the speech engine")


def test_speech_runs_the_engine_without_a_shell_and_a_new_cue_cuts_the_last():
    started, beeps = [], []

    def popen(args, **kwargs):
        started.append((args, kwargs))
        return _Process()

    player = CuePlayer(speech=True, which=_which("espeak-ng"), popen=popen,
                       beep=lambda: beeps.append(1), platform="linux")
    assert player.play("Chest up") == "speech"
    args, kwargs = started[0]
    assert isinstance(args, list) and args[-1] == "Chest up"
    assert not kwargs.get("shell")
    assert {kwargs[k] for k in ("stdin", "stdout", "stderr")} == {subprocess.DEVNULL}
    first = player._speaking
    assert player.play("Rep 1") == "speech"
    assert first.terminated and len(started) == 2 and not beeps
    assert player.played == [("speech", "Chest up"), ("speech", "Rep 1")]


def test_no_speech_engine_falls_back_to_the_beep_silently():
    beeps = []
    player = CuePlayer(speech=True, which=_which(), popen=None,
                       beep=lambda: beeps.append(1), platform="linux")
    assert player.play("Chest up") == "beep" and beeps == [1]

    def broken(args, **kwargs):  # found by which, gone or not executable when started
        raise PermissionError(13, "Permission denied")

    player = CuePlayer(speech=True, which=_which("espeak-ng"), popen=broken,
                       beep=lambda: beeps.append(1), platform="linux")
    assert player.play("Rep 2") == "beep" and beeps == [1, 1]
    sound_only = CuePlayer(sound=True, which=_which("espeak-ng"), popen=broken,
                           beep=lambda: beeps.append(1), platform="linux")
    assert sound_only.play("Rep 2") == "beep"  # sound alone never speaks
    silent = CuePlayer(which=_which("espeak-ng"), popen=broken,
                       beep=lambda: beeps.append(1), platform="linux")
    assert silent.play("Rep 2") is None and len(beeps) == 3


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a shell-script engine")
def test_a_slow_real_engine_does_not_hold_up_the_caller(tmp_path):
    """A real process that takes 5 s to 'speak': play() returns at once, stop() ends it."""
    engine = tmp_path / "espeak-ng"
    marker = tmp_path / "spoken"
    engine.write_text(f"#!/bin/sh\necho \"$@\" > {marker}\nsleep 5\n")
    engine.chmod(0o755)
    player = CuePlayer(speech=True, which=lambda name: str(engine) if name == "espeak-ng"
                       else None, beep=lambda: pytest.fail("beeped"), platform="linux")
    t0 = time.monotonic()
    assert player.play("Rep 3") == "speech"
    assert time.monotonic() - t0 < 1.0
    proc = player._speaking
    deadline = time.monotonic() + 5
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.read_text().split() == ["-s", str(SPEECH_RATE_WPM), "--", "Rep", "3"]
    player.stop()
    assert proc.wait(timeout=5) != 0  # terminated, not left speaking over the next cue
