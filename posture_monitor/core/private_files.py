"""Writing files that hold personal data: atomically and readable by the user only."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def make_private_by_default() -> None:
    """Every file and folder this process creates from now on is readable by the user
    only (umask 077): CSVs, sidecars, recorded video, snapshots, the data folders. One
    place instead of a chmod after each write, so a new writer cannot forget it. Called
    once at the start of the command line and the window (`posture_monitor.cli.main`)."""
    if os.name == "posix":
        os.umask(0o077)


def write_private_text(path: Path, text: str, newline: str | None = None) -> None:
    """Write `text` to `path` so that a crash never leaves half a file (a temporary beside
    the target, then os.replace) and the content is never readable by others, not even
    briefly (mkstemp creates the temporary 0o600 on POSIX; the folder is made 0o700)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if os.name == "posix":
            os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
