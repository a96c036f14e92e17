"""Audio cues of exercise mode: a short beep, or the cue spoken by an offline speech
engine when one is installed (espeak-ng or espeak on Linux, `say` on macOS).

Nothing here may hold up the GUI thread: the speech engine is started with
`subprocess.Popen` (an argument list, never a shell: the words come from our own tables,
but a shell would still be one more thing to trust) and never waited for. A new cue cuts
the one still being spoken: "Rep 3" said after "Rep 4" would be wrong, and queued words
fall behind the movement they are about. No engine, or one that fails to start, falls
back to the beep without a word on screen: sound was asked for, and a beep is sound.
Everything stays on this machine; there is no network speech.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable

# Engines in the order tried, per platform: espeak-ng is the maintained fork of espeak.
ENGINES = {"linux": ("espeak-ng", "espeak"), "darwin": ("say",)}
# Words per minute: a little quicker than espeak's default 175, so "Rep 12" ends before
# the next repetition is well under way.
SPEECH_RATE_WPM = 190


def speech_command(text: str, platform: str = sys.platform,
                   which: Callable[[str], str | None] = shutil.which) -> list[str] | None:
    """The argument list that speaks `text` with the first engine found, or None."""
    family = "linux" if platform.startswith("linux") else platform
    for name in ENGINES.get(family, ()):
        path = which(name)
        if path is None:
            continue
        if name == "say":
            # No "--" here: not known to be honoured by macOS `say` (our cue words never
            # begin with "-": they are "Rep 3" and the form checks' fixed cues).
            return [path, "-r", str(SPEECH_RATE_WPM), text]
        # "--": words never read as options, whatever they are (espeak-ng honours it).
        return [path, "-s", str(SPEECH_RATE_WPM), "--", text]
    return None


def _beep() -> None:
    from PySide6.QtWidgets import QApplication

    QApplication.beep()


class CuePlayer:
    """`play("Chest up")`: spoken if `speech` and an engine exists, else a beep if
    `sound` or `speech` (the fallback); silent when both are off."""

    def __init__(self, sound: bool = False, speech: bool = False,
                 which: Callable[[str], str | None] | None = None,
                 popen: Callable[..., subprocess.Popen] | None = None,
                 beep: Callable[[], None] | None = None, platform: str | None = None) -> None:
        self.sound, self.speech = sound, speech
        # Looked up now, not at import: a test that replaces them reaches the window's.
        self._which = which or shutil.which
        self._popen = popen or subprocess.Popen
        self._beep = beep or _beep
        self._platform = platform or sys.platform
        self._speaking: subprocess.Popen | None = None
        self.played: list[tuple[str, str]] = []  # (how, text): "speech" | "beep", for tests

    def play(self, text: str) -> str | None:
        """Give the cue; returns how ("speech" or "beep") or None when off."""
        if self.speech and self._say(text):
            how = "speech"
        elif self.sound or self.speech:
            self._beep()
            how = "beep"
        else:
            return None
        self.played.append((how, text))
        return how

    def _say(self, text: str) -> bool:
        command = speech_command(text, self._platform, self._which)
        if command is None:
            return False
        self.stop()
        try:
            self._speaking = self._popen(command, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
        except OSError:  # removed since `which` found it, not executable, no sound device
            self._speaking = None
            return False
        return True

    def stop(self) -> None:
        """Cut the words being spoken (if any) and reap the process, without waiting."""
        proc, self._speaking = self._speaking, None
        if proc is None or proc.poll() is not None:
            return  # finished: poll() reaped it
        proc.terminate()
        # Reaped now if it has already gone; else the next poll, or Python's own
        # clean-up of finished children when a new Popen starts, reaps it.
        proc.poll()
