"""Where results go: checked before any work, never the session database, never over an
existing result unless the user asked for it, and a failed write is one line that names
the path and the fix (instead of a traceback).

Used by `analyze` (its `--out` folder and `<stem>.csv/.json`), `sessions export` and
`report`; the recorder maps its own write errors with `output_error`.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from posture_monitor.core.common.errors import OutputError

DB_SUFFIXES = ("", "-wal", "-shm", "-journal")  # SQLite's files beside the database


def database_files(db: Path | None = None) -> list[Path]:
    """The session database and the files SQLite keeps beside it."""
    if db is None:
        from posture_monitor.core.records.schema import db_path

        db = db_path()
    return [db.with_name(db.name + s) for s in DB_SUFFIXES]


def _same(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)  # hard links and symlinks too
    except OSError:
        pass
    return os.path.realpath(a) == os.path.realpath(b)


def refuse_database(path: Path, protected: Iterable[Path] | None = None) -> None:
    """No output may be the database or its -wal/-shm/-journal file, whatever
    --overwrite says: replacing it would lose every patient's history."""
    for db in protected if protected is not None else database_files():
        if _same(Path(path), db):
            raise OutputError(f"{path} is the session database ({db.name}): posture-monitor "
                              "never writes a result over it; choose another file name")


def _ancestor_file(path: Path) -> Path | None:
    """The first part of `path` that exists and is not a folder, if any."""
    for p in [path, *path.parents]:
        if p.exists() or p.is_symlink():
            return None if p.is_dir() else p
    return None


def os_error_message(exc: OSError, path: Path, elsewhere: str = "choose another folder") -> str:
    """One line for a failed write: what happened to which path, and what to do."""
    path = Path(path)
    code = exc.errno
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return f"the disk is full writing {path}: free some space, or {elsewhere}"
    if code == errno.EROFS:
        return f"{path} is on a read-only file system: {elsewhere} on a writable disk"
    if code in (errno.EACCES, errno.EPERM):
        return (f"no permission to write {path}: {elsewhere} that you can write to, or "
                "change the folder's permissions")
    if code == errno.EISDIR:
        return f"{path} is a folder, not a file: move it aside, or {elsewhere}"
    if code in (errno.ENOTDIR, errno.EEXIST):
        blocker = _ancestor_file(path) or path
        return f"{blocker} is a file, not a folder, so {path} cannot be written: {elsewhere}"
    if code == errno.ENAMETOOLONG:
        return f"the name {path} is too long for this file system: {elsewhere}"
    reason = exc.strerror or exc.__class__.__name__
    return f"cannot write {path} ({reason}): {elsewhere}"


def output_error(exc: OSError, path: Path, elsewhere: str = "choose another folder",
                 kept: str = "") -> OutputError:
    return OutputError(os_error_message(exc, path, elsewhere) + kept)


def check_output_dir(out_dir: Path, option: str = "--out") -> None:
    """`out_dir` is (or becomes) a folder this process can create files in. Created when
    missing; a probe file is created and removed, so a read-only disk, missing permission
    or a full disk is found before any work (root ignores permission bits, a read-only
    mount it does not)."""
    out_dir = Path(out_dir)
    elsewhere = f"choose another {option} folder"
    if (out_dir.exists() or out_dir.is_symlink()) and not out_dir.is_dir():
        raise OutputError(f"{option} {out_dir} is a file, not a folder: give a folder for "
                          "the results")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".posture-monitor-probe-", dir=out_dir)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise output_error(exc, out_dir, elsewhere) from None


def check_output_file(path: Path, overwrite: bool, option: str,
                      example: str = "session.csv") -> None:
    """A single output file (`sessions export --out`, `report --pdf`): never the database,
    never a folder or a device, an existing file only with --overwrite, and a folder that
    can take it."""
    path = Path(path)
    refuse_database(path)
    if path.is_dir():
        raise OutputError(f"{option} {path} is a folder: give a file name, e.g. "
                          f"{path / example}")
    if path.exists() or path.is_symlink():
        if not path.is_file():
            raise OutputError(f"{option} {path} is not a regular file: give a file name")
        if not overwrite:
            raise OutputError(f"{path} exists already: pass --overwrite to replace it, or "
                              f"give another {option}")
    check_output_dir(path.parent, option)


def check_result_files(out_dir: Path, stems: Iterable[str], suffixes: Iterable[str],
                       overwrite: bool) -> None:
    """The files `analyze` will write into `out_dir`: a folder with a result's name is
    always refused, an existing result unless `overwrite`; all are checked, the first
    problem is reported."""
    existing: list[Path] = []
    for stem in stems:
        for suffix in suffixes:
            p = Path(out_dir) / f"{stem}{suffix}"
            refuse_database(p)
            if p.is_dir():
                raise OutputError(f"{p} is a folder with the name of a result file: move it "
                                  "aside, or choose another --out folder")
            if p.exists() or p.is_symlink():
                if not p.is_file():
                    raise OutputError(f"{p} is not a regular file: move it aside, or choose "
                                      "another --out folder")
                existing.append(p)
    if existing and not overwrite:
        n = len(existing) - 1
        more = f" (and {n} more result file{'s' if n > 1 else ''})" if n else ""
        raise OutputError(f"{existing[0]} exists already{more}: pass --overwrite to replace "
                          "results, or choose another --out folder")
