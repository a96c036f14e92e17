"""Writing files that hold personal data: atomically and readable by the user only;
reading the small JSON files (settings, profiles) so that no file can break the reader;
and keeping a copy of a damaged file before a save replaces it."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

MAX_JSON_BYTES = 64 << 20  # settings and profiles are kilobytes; beyond this is no such file


def make_private_by_default() -> None:
    """Every file and folder this process creates from now on is readable by the user
    only (umask 077): CSVs, sidecars, recorded video, snapshots, the data folders. One
    place instead of a chmod after each write, so a new writer cannot forget it. Called
    once at the start of the command line and the window (`posture_monitor.cli.main`)."""
    if os.name == "posix":
        os.umask(0o077)


@contextlib.contextmanager
def private_file(path: Path, binary: bool = False,
                 newline: str | None = None) -> Iterator[tuple[IO, str]]:
    """(open file, its temporary path) for writing `path` so that a crash never leaves
    half a file (a temporary beside the target, renamed onto it when the block ends well,
    removed otherwise) and the content is never readable by others, not even briefly
    (mkstemp creates the temporary 0o600 on POSIX; the folder is made 0o700)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".tmp", dir=path.parent)
    try:
        with (os.fdopen(fd, "wb") if binary else
              os.fdopen(fd, "w", encoding="utf-8", newline=newline)) as fh:
            yield fh, tmp
            fh.flush()
            os.fsync(fh.fileno())
        if os.name == "posix":
            os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_private_text(path: Path, text: str, newline: str | None = None) -> None:
    """Write `text` to `path` atomically and user-only (`private_file`)."""
    with private_file(path, newline=newline) as (fh, _):
        fh.write(text)


def read_json(path: Path) -> object:
    """The JSON value in `path`. FileNotFoundError for a missing file; ValueError with a
    short reason for anything else that is not a readable JSON file: a folder, a pipe or
    a device (never read: it could block forever), an unreadable or huge file, text that
    is not UTF-8 or not JSON, numbers beyond Python's digit limit, nesting too deep."""
    path = Path(path)
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise ValueError("a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file")
        if info.st_size > MAX_JSON_BYTES:
            raise ValueError(f"{info.st_size} bytes, far too large")
        text = path.read_bytes().decode("utf-8")
        return json.loads(text)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ValueError(exc.strerror or exc.__class__.__name__) from None
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc.msg} at line {exc.lineno}") from None
    except RecursionError:
        raise ValueError("nested too deep") from None
    except ValueError as exc:  # e.g. an integer beyond sys.get_int_max_str_digits()
        raise ValueError(str(exc).split("\n")[0][:80]) from None


def keep_damaged_copy(path: Path) -> Path:
    """Copy `path` to `<name>.backup-YYYYmmdd-HHMMSS` beside it, user-only, and return the
    copy: called before a save replaces content that this program could not read (or does
    not know), so that content is never lost. An earlier copy is never overwritten (a
    second one in the same second gets -2, -3, ...); when an earlier copy holds the same
    bytes, that one is returned and nothing is written (one damaged file, one copy)."""
    path = Path(path)
    data = path.read_bytes()
    prefix = f"{path.name}.backup-"
    for old in sorted(path.parent.glob(glob.escape(prefix) + "*")):
        try:
            if old.is_file() and old.stat().st_size == len(data) and old.read_bytes() == data:
                return old
        except OSError:
            continue
    stamp, n = time.strftime("%Y%m%d-%H%M%S"), 1
    while True:
        target = path.with_name(prefix + stamp + (f"-{n}" if n > 1 else ""))
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            n += 1
            continue
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            if os.name == "posix":
                os.chmod(target, 0o600)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        return target
