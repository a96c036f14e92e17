"""Patients and sessions in one SQLite file (stdlib sqlite3, no server).

One local file keeps everything a practice needs to follow a person over weeks: who
(pseudonymous ids) and every session with its per-frame samples. WAL mode lets the app
write samples while a list of sessions is read, and samples are committed in batches at
most once a second, so a killed process loses at most the last second. The file is
user-only (0o600): it holds health data. Core (no Qt).

The schema and its migrations are in schema.py; what a stored sample and a session
summary may hold, and the summary itself, in samples.py. This module opens, checks and
writes the file.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from posture_monitor.core.common.errors import UserError
from posture_monitor.core.common.hashing import file_sha256
from posture_monitor.core.common.paths import ENV_DATA_DIR
from posture_monitor.core.common.safe_text import patient_id_problem, printable
from posture_monitor.core.records.samples import (
    PRESENT_STATES,
    SAMPLE_COLUMNS,
    SUMMARY_METRICS,
    TEXT_COLUMNS,
    VALUE_RANGES,
    _float_column,
    _frame_column,
    _json_object,
    _median,
    clean_summary,
    parse_time,
    sample_tuple,
)
from posture_monitor.core.records.samples import summarize as summarize  # re-export (sinks)
from posture_monitor.core.records.schema import DB_NAME as DB_NAME  # re-export
from posture_monitor.core.records.schema import MIGRATIONS, _statements, db_path

if TYPE_CHECKING:  # annotations only: the store must not load MediaPipe
    from posture_monitor.core.posture.pipeline import FrameResult

# A session left 'running' is finished as 'interrupted' (issue 11) once its writer is
# gone: the writer holds an OS lock (flock) on <database>.writers/session-<id>.lock while
# it records, which the kernel releases when the process dies, even on kill -9 (a pid
# could be reused by another program; a lock cannot outlive its process), and nothing
# has been written for RECOVER_AFTER_S. Without a lock to ask (a session of an older
# version, or of another computer sharing the folder) only a long silence counts.
RECOVER_AFTER_S = 10.0
UNKNOWN_WRITER_AFTER_S = 3600.0

def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def csv_changed(session: dict) -> str | None:
    """One line when the CSV a session points at is no longer the file that was stored
    (its sha256 differs, or it cannot be read); None when it matches, or when there is
    no file or no stored hash to compare. Readers of the file say so rather than
    silently using different data (e.g. a later `analyze --overwrite` replaced it)."""
    path, sha = session.get("csv_path"), session.get("csv_sha256")
    if not path or not sha or not Path(path).is_file():
        return None
    try:
        now = file_sha256(Path(path))
    except OSError as exc:
        return f"session {session.get('id')}: its CSV {path} cannot be read ({exc.strerror})"
    if now == sha:
        return None
    return (f"session {session.get('id')}: its CSV {path} has changed since it was stored "
            f"(sha256 {sha[:12]}..., now {now[:12]}...)")


class DamagedStoreError(UserError):
    """The database file is damaged (SQLite's integrity check failed, or a read met a
    garbage page). Nothing is written into it: a copy must be kept first."""


class ReadOnlyStoreError(UserError):
    """A write asked of a database that sits in a read-only folder (or is a read-only
    file): it is opened read-only, so lists and reports work, and writes are refused."""


def _sqlite_code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)  # Python 3.11+
    if code is not None:
        return code & 0xFF
    text = str(exc)  # 3.10: only the message tells
    return (11 if "malformed" in text else 26 if "not a database" in text
            else 8 if "readonly database" in text else None)


def _read_only_place(path: Path) -> bool:
    """True where the database can be read but not written: its folder exists and is
    read-only (a read-only mount, no write permission), or the file is read-only."""
    folder = path.parent
    if not folder.is_dir():
        return False  # created on open (or a one-line error there)
    if not os.access(folder, os.W_OK):
        return True
    return path.is_file() and not os.access(path, os.W_OK)


def _unusable(path: Path, exc: OSError) -> UserError:
    """A database location that cannot be used, in one line naming the fix."""
    blocker = next((p for p in [path, *path.parents] if p.exists() and not p.is_dir()),
                   None)
    fix = (f"point {ENV_DATA_DIR} at a folder you can write to"
           if os.environ.get(ENV_DATA_DIR) else "check that folder")
    if blocker is not None and blocker != path:
        return UserError(f"the database {path} cannot be created because {blocker} is a "
                         f"file, not a folder: {fix}")
    return UserError(f"the database {path} cannot be opened ({exc.strerror or exc}): {fix}")


def _try_lock(fh: Any) -> bool:
    """An exclusive, non-blocking OS lock on an open file; False when another holds it.
    flock (not fcntl record locks): a second open file in the same process conflicts too."""
    try:
        if os.name == "nt":
            import msvcrt

            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


class Store:
    """The database; one per process is enough (thread-safe, one connection, a lock)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else db_path()
        # A read-only place is opened read-only (SQLite's mode=ro): the history stays
        # readable and every write is refused in one line, instead of an open that fails
        # as if the file were broken.
        self.read_only = _read_only_place(self.path)
        self._integrity: str | None = None  # "ok", or the first problem quick_check found
        if self.read_only and not self.path.is_file():
            raise ReadOnlyStoreError(f"{self.path.parent} is read-only and holds no "
                                     f"database yet: nothing recorded to show, and nothing "
                                     f"can be recorded there; point {ENV_DATA_DIR} at a "
                                     f"folder you can write to")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not self.path.exists():
                # Create it user-only before SQLite does (it would use the umask, often
                # 0o644); SQLite gives its -wal and -shm files the mode of the database.
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        except OSError as exc:
            raise _unusable(self.path, exc) from None
        if not self.path.is_file():
            raise UserError(f"the database {self.path} is a folder, not a file: move it "
                            f"aside, or point {ENV_DATA_DIR} at another folder")
        self._lock = threading.RLock()  # the app writes samples from its analysis thread
        self.host = socket.gethostname()
        self._writing: dict[int, Any] = {}  # session id -> its open, locked lock file
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, nothing implicit.
        try:
            self._conn = (self._connect_read_only() if self.read_only else
                          sqlite3.connect(self.path, isolation_level=None, timeout=10,
                                          check_same_thread=False))
        except sqlite3.Error as exc:
            raise UserError(f"the database {self.path} cannot be opened ({exc}): check the "
                            "file and its folder") from None
        self._conn.row_factory = sqlite3.Row
        try:
            self._refuse_foreign()  # before any PRAGMA that would change another's file
            if not self.read_only:  # a read-only file keeps the journal mode it has
                self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA foreign_keys=ON")  # per connection, off by default
            # NORMAL is safe in WAL mode: a process crash loses nothing committed, only a
            # power cut may lose the last commits; FULL would fsync every batch.
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise UserError(f"{self.path} is not a usable posture-monitor database ({exc}): "
                            "move it aside and start again") from exc
        except BaseException:
            self._conn.close()
            raise
        self.recovered: list[int] = []  # sessions this start finished as 'interrupted'
        # Busy or read-only just now: the next start tries again.
        # Damaged or opened read-only: nothing is written, the sessions wait as they are.
        with contextlib.suppress(sqlite3.Error, OSError, DamagedStoreError,
                                 ReadOnlyStoreError):
            self.recovered = self.recover_interrupted()

    @property
    def version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def _refuse_foreign(self) -> None:
        """A SQLite file at version 0 that already has tables belongs to another program:
        never add our tables to it, nor switch its journal mode."""
        if self.version != 0:
            return
        names = [r[0] for r in self._conn.execute(
            "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name")]
        if names:
            shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
            raise UserError(f"{self.path} is another program's SQLite database (tables "
                            f"{shown}): posture-monitor leaves it unchanged; move it aside "
                            f"or point {ENV_DATA_DIR} at another folder")

    def _migrate(self) -> None:
        if self.version > len(MIGRATIONS):
            raise UserError(f"{self.path} was written by a newer posture-monitor (schema "
                            f"{self.version}, this one knows {len(MIGRATIONS)}): update it")
        if self.read_only and self.version < len(MIGRATIONS):
            raise ReadOnlyStoreError(f"{self.path} needs an update to this version's "
                                     "layout, but it is read-only: make its folder "
                                     "writable once (the update keeps every session)")
        while self.version < len(MIGRATIONS):
            with self.transaction():
                v = self.version  # re-read under the write lock: another process may have won
                if v >= len(MIGRATIONS):
                    break
                for stmt in _statements(MIGRATIONS[v]):
                    self._conn.execute(stmt)
                self._conn.execute(f"PRAGMA user_version = {v + 1}")  # transactional

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error); nested calls join the outer one."""
        with self._lock:
            if self._conn.in_transaction:
                yield self._conn
                return
            if self.read_only:
                raise ReadOnlyStoreError(self._read_only_message())
            self.check_integrity()  # never write into a damaged file
            # IMMEDIATE takes the write lock up front: no deadlock upgrading a read lock.
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except sqlite3.DatabaseError as exc:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.execute("ROLLBACK")
                problem = self._problem(exc)
                if problem is None:
                    raise
                raise problem from exc
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            try:
                self._conn.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                problem = self._problem(exc)
                if problem is None:
                    raise
                raise problem from exc

    def query(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                problem = self._problem(exc)
                if problem is None:
                    raise
                raise problem from exc

    def check_integrity(self) -> None:
        """SQLite's quick_check, once per open store, where it matters: before the first
        write (`transaction`) and before data is read for a report or an export (about
        3 ms per MB, so not for a plain list). Raises DamagedStoreError in one line."""
        with self._lock:
            if self._integrity is None:
                try:
                    rows = [str(r[0]) for r in self._conn.execute("PRAGMA quick_check(3)")]
                except sqlite3.DatabaseError as exc:
                    rows = [str(exc)]
                lines = [line for r in rows for line in r.splitlines()]
                found = [line for line in lines if not line.startswith("***")] or lines
                self._integrity = "ok" if rows == ["ok"] else (found or ["?"])[0]
            if self._integrity != "ok":
                raise DamagedStoreError(self._damaged_message(self._integrity))

    def _damaged_message(self, detail: str) -> str:
        detail = " ".join(detail.split())[:100]
        return (f"the database {self.path} is damaged ({detail}): keep a copy of it and of "
                "its -wal file before anything else; posture-monitor will not write into it "
                "(sqlite3's .recover can rescue what is readable)")

    def _read_only_message(self) -> str:
        where = (f"{self.path.parent} is read-only" if not os.access(self.path.parent,
                                                                    os.W_OK)
                 else f"the database {self.path} is read-only")
        return (f"{where}: posture-monitor lists and reports its sessions but records and "
                f"changes nothing there; make it writable, or point {ENV_DATA_DIR} at "
                "another folder, to record")

    def _problem(self, exc: sqlite3.DatabaseError) -> UserError | None:
        """The one-line error for a damaged or read-only file; None for anything else."""
        code = _sqlite_code(exc)
        if code in (11, 26):  # SQLITE_CORRUPT, SQLITE_NOTADB: a garbage page met
            if self._integrity in (None, "ok"):
                self._integrity = str(exc)
            return DamagedStoreError(self._damaged_message(self._integrity))
        if code == 8:  # SQLITE_READONLY: made read-only while open
            return ReadOnlyStoreError(self._read_only_message())
        return None

    def _connect_read_only(self) -> sqlite3.Connection:
        """mode=ro reads a WAL database with its -wal and -shm files. Where SQLite cannot
        create a missing -shm in the read-only folder (a database closed cleanly leaves
        none), immutable=1 reads the file alone: after a clean close that is everything."""
        uri = self.path.absolute().as_uri()

        def connect(flags: str) -> sqlite3.Connection:
            conn = sqlite3.connect(f"{uri}?{flags}", uri=True, isolation_level=None,
                                   timeout=10, check_same_thread=False)
            try:
                conn.execute("PRAGMA user_version").fetchone()  # SQLite opens lazily
            except BaseException:
                conn.close()
                raise
            return conn

        try:
            return connect("mode=ro")
        except sqlite3.OperationalError:
            return connect("immutable=1")

    def close(self) -> None:
        with self._lock:
            for sid in list(self._writing):  # unfinished: the next start may finish them
                self._release_writer_lock(sid)
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- patients ---------------------------------------------------------------------
    def add_patient(self, id: str, display_name: str | None = None,
                    notes: str | None = None) -> None:
        if not id or not id.strip():
            raise UserError("a patient needs an id (a pseudonym such as P001, not a name)")
        problem = patient_id_problem(id)
        if problem:  # it is printed in lists and tables: no escape codes, tabs, newlines
            raise UserError(f"the patient id {printable(id)!r} {problem}: use letters, "
                            "digits and signs such as P001 or knee-2024-07")
        with self.transaction() as c:
            if self.patient(id) is not None:
                raise UserError(f"patient {id!r} exists already: pick another id")
            c.execute("INSERT INTO patients VALUES (?, ?, ?, ?)",
                      (id, display_name, notes, now_iso()))

    def patients(self) -> list[dict]:
        return [dict(r) for r in self.query("SELECT * FROM patients ORDER BY id")]

    def patient(self, id: str) -> dict | None:
        rows = self.query("SELECT * FROM patients WHERE id = ?", (id,))
        return dict(rows[0]) if rows else None

    def _known_patient(self, id: str) -> None:
        if self.patient(id) is None:
            raise UserError(f"no patient {id!r}: add it with posture-monitor patients --add {id}")

    def delete_patient(self, id: str) -> None:
        """Erase a person with all their sessions and samples (cascade)."""
        with self.transaction() as c:
            self._known_patient(id)
            c.execute("DELETE FROM patients WHERE id = ?", (id,))

    def start_session(self, patient_id: str, source: str, model: str, settings: dict,
                      started: str | None = None, csv_path: Path | None = None) -> int:
        """A new 'running' session written by this process (host, pid and a held lock
        file tell later starts it is alive); `csv_path` where its CSV goes, if known, so
        that a session whose process dies still points at its file."""
        with self.transaction() as c:
            self._known_patient(patient_id)
            cur = c.execute("INSERT INTO sessions (patient_id, started, source, model, "
                            "settings_json, status, csv_path, writer_host, writer_pid, "
                            "updated) VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)",
                            (patient_id, started or now_iso(), source, model,
                             json.dumps(settings, default=str),
                             None if csv_path is None else os.path.abspath(csv_path),
                             self.host, os.getpid(), now_iso()))
            sid = int(cur.lastrowid)
            # Locked before COMMIT: no other process ever sees this session running unlocked.
            self._hold_writer_lock(sid)
            return sid

    def set_csv_path(self, session_id: int, csv_path: Path) -> None:
        """Where a running session's CSV is written (known once the recorder started)."""
        with self.transaction() as c:
            c.execute("UPDATE sessions SET csv_path = ? WHERE id = ?",
                      (os.path.abspath(csv_path), session_id))

    def finish_session(self, session_id: int, summary: dict, status: str = "complete",
                       csv_path: Path | None = None, ended: str | None = None) -> None:
        self.session(session_id)  # one-line error for an unknown id
        if csv_path is not None:  # absolute: the store is read from any working folder
            csv_path = Path(os.path.abspath(csv_path))
        # No hash for a CSV a failed run never wrote: finishing must not mask that failure.
        ok = csv_path is not None and Path(csv_path).is_file()
        sha = file_sha256(Path(csv_path)) if ok else None
        with self.transaction() as c:
            c.execute("UPDATE sessions SET ended = ?, summary_json = ?, status = ?, "
                      "csv_path = ?, csv_sha256 = ? WHERE id = ?",
                      (ended or now_iso(), json.dumps(summary), status,
                       None if csv_path is None else str(csv_path), sha, session_id))
        self._release_writer_lock(session_id)

    @staticmethod
    def _session_dict(row: sqlite3.Row) -> dict:
        """A session as readers use it. What an older version may have stored (a start
        time that is no text, a summary with NaN or infinity, broken JSON) reads as
        missing, so no list, history or report fails on one bad row."""
        d = dict(row)
        d["settings"] = _json_object(d.pop("settings_json")) or {}
        summary = _json_object(d.pop("summary_json"))
        d["summary"] = None if summary is None else clean_summary(summary)
        for key in ("started", "ended", "status", "source", "model"):
            if d.get(key) is not None and not isinstance(d[key], str):
                d[key] = None
        return d

    def sessions(self, patient_id: str | None = None) -> list[dict]:
        """Newest first (id breaks ties between sessions started in the same second)."""
        where, params = ("WHERE patient_id = ?", (patient_id,)) if patient_id else ("", ())
        rows = self.query(f"SELECT * FROM sessions {where} ORDER BY started DESC, id DESC",
                          params)
        return [self._session_dict(r) for r in rows]

    def session(self, id: int) -> dict:
        rows = self.query("SELECT * FROM sessions WHERE id = ?", (id,))
        if not rows:
            raise UserError(f"no session {id}: list them with posture-monitor sessions list")
        return self._session_dict(rows[0])

    def insert_samples(self, session_id: int, rows: list[tuple]) -> None:
        """Tuples in SAMPLE_COLUMNS order, written in one transaction."""
        if not rows:
            return
        marks = ", ".join("?" * (len(SAMPLE_COLUMNS) + 1))
        with self.transaction() as c:
            c.executemany(f"INSERT OR REPLACE INTO samples (session_id, "
                          f"{', '.join(SAMPLE_COLUMNS)}) VALUES ({marks})",
                          [(session_id, *r) for r in rows])
            if session_id in self._writing:  # this process is alive and writing it
                c.execute("UPDATE sessions SET updated = ? WHERE id = ?",
                          (now_iso(), session_id))

    def samples(self, session_id: int) -> dict[str, np.ndarray]:
        """Columns as arrays: frame int64, numbers float64 (NaN for NULL), text object."""
        self.session(session_id)
        rows = self.query(f"SELECT {', '.join(SAMPLE_COLUMNS)} FROM samples "
                          "WHERE session_id = ? ORDER BY frame", (session_id,))
        out: dict[str, np.ndarray] = {}
        for i, col in enumerate(SAMPLE_COLUMNS):
            values = [r[i] for r in rows]
            if col == "frame":
                out[col] = _frame_column(values)
            elif col in TEXT_COLUMNS:
                out[col] = np.array([v if v is None or isinstance(v, str) else str(v)
                                     for v in values], dtype=object)
            else:  # NaN for NULL and for what no version should have stored (infinity)
                out[col] = _float_column(values, col)
        return out

    def frame_count(self, session_id: int) -> int:
        return int(self.query("SELECT count(*) FROM samples WHERE session_id = ?",
                              (session_id,))[0][0])

    def stored_summary(self, session_id: int) -> dict:
        """`summarize(self.samples(session_id))` without loading the samples: counts and
        label tallies in SQL, the medians one column at a time (8 bytes a frame)."""
        def one(sql: str, *params: Any) -> tuple:
            return tuple(self._conn.execute(sql, (session_id, *params)).fetchone())

        where = "FROM samples WHERE session_id = ?"
        with self._lock:
            (frames,) = one(f"SELECT count(*) {where}")
            tmin, tmax = one(f"SELECT min(time_s), max(time_s) {where} AND time_s BETWEEN "
                             "? AND ?", *VALUE_RANGES["time_s"])
            medians = {}
            for c in SUMMARY_METRICS:
                cur = self._conn.execute(f"SELECT {c} {where} AND {c} BETWEEN ? AND ?",
                                         (session_id, *VALUE_RANGES[c]))
                medians[c] = _median(np.fromiter((r[0] for r in cur), dtype=float))
            states = ", ".join(f"'{s}'" for s in PRESENT_STATES)  # constants, not input
            ok, present = one(f"SELECT total(alert_state = 'ok'), total(alert_state IN "
                              f"({states})) {where}")
            labels = self._conn.execute(
                f"SELECT posture_label, count(*) {where} AND posture_label != '' GROUP BY "
                "posture_label ORDER BY count(*) DESC, min(frame)", (session_id,)).fetchall()
        return {
            "frames": int(frames),
            "duration_s": float(tmax - tmin) if tmin is not None else 0.0,
            **medians,
            "good_share": int(ok) / int(present) if present else None,
            "labels": {str(k): int(n) for k, n in labels},
        }

    def delete_session(self, session_id: int) -> None:
        """Remove a session and its samples (an import undone). Its CSV file stays where
        it is. A session another process is still recording is refused."""
        with self.transaction() as c:
            s = self.session(session_id)
            if s.get("status") == "running" and self._writer_state(s) == "alive":
                raise UserError(f"session {session_id} is being recorded right now (process "
                                f"{s.get('writer_pid')} on {printable(s.get('writer_host'))}):"
                                " stop that recording first")
            c.execute("DELETE FROM sessions WHERE id = ?", (session_id,))  # samples cascade

    # -- sessions whose process died (issue 11) ---------------------------------------
    def _lock_path(self, session_id: int) -> Path:
        return self.path.with_name(f"{self.path.name}.writers") / f"session-{session_id}.lock"

    def _hold_writer_lock(self, session_id: int) -> None:
        path = self._lock_path(session_id)
        try:
            path.parent.mkdir(mode=0o700, exist_ok=True)
            fh = open(path, "a+b")  # noqa: SIM115 - held open while the session runs
        except OSError:
            return  # no lock: later starts wait for UNKNOWN_WRITER_AFTER_S of silence
        if _try_lock(fh):
            self._writing[session_id] = fh
        else:
            fh.close()

    def _release_writer_lock(self, session_id: int) -> None:
        fh = self._writing.pop(session_id, None)
        if fh is not None:
            with contextlib.suppress(OSError):
                self._lock_path(session_id).unlink()
            fh.close()

    def _writer_state(self, session: dict) -> str:
        """'alive', 'gone' or 'unknown' for the process that records `session`."""
        if session["id"] in self._writing:
            return "alive"
        if session.get("writer_host") != self.host:
            return "unknown"  # an older version's session, or another computer's
        try:
            fh = open(self._lock_path(session["id"]), "r+b")  # noqa: SIM115
        except OSError:
            return "unknown"  # it could not take a lock
        try:
            return "gone" if _try_lock(fh) else "alive"
        finally:
            fh.close()  # closing drops the lock we may have taken

    def _last_write(self, session: dict) -> datetime | None:
        """When the session last wrote: its `updated`, else (older versions) its start
        plus the time of its last stored sample."""
        updated = parse_time(session.get("updated"))
        if updated is not None:
            return updated
        started = parse_time(session.get("started"))
        if started is None:
            return None
        (t,) = self._conn.execute("SELECT max(time_s) FROM samples WHERE session_id = ? AND "
                                  "time_s BETWEEN ? AND ?",
                                  (session["id"], *VALUE_RANGES["time_s"])).fetchone()
        return started + timedelta(seconds=t or 0.0)

    def recover_interrupted(self, quiet_s: float = RECOVER_AFTER_S,
                            unknown_quiet_s: float = UNKNOWN_WRITER_AFTER_S) -> list[int]:
        """Finish the sessions left 'running' by a process that died (a crash, kill -9, a
        power cut): status 'interrupted', the summary of the frames it stored, its end at
        its last write, the sha256 of its CSV as it is now. A session is left alone while
        its writer holds its lock or wrote within `quiet_s`; without a lock to ask, until
        it has been silent for `unknown_quiet_s`. Returns the ids finished."""
        done = []
        running = [r[0] for r in self.query("SELECT id FROM sessions WHERE status = "
                                            "'running' ORDER BY id")]
        for sid in running:
            if sid in self._writing:
                continue
            with self.transaction() as c:  # re-read under the write lock: one finisher
                rows = c.execute("SELECT * FROM sessions WHERE id = ?", (sid,)).fetchall()
                if not rows or rows[0]["status"] != "running":
                    continue
                s = self._session_dict(rows[0])
                state = self._writer_state(s)
                last = self._last_write(s)
                silent = (math.inf if last is None
                          else (datetime.now(timezone.utc) - last).total_seconds())
                if state == "alive" or silent < (quiet_s if state == "gone"
                                                 else unknown_quiet_s):
                    continue
                csv_path = s.get("csv_path")
                ok = isinstance(csv_path, str) and Path(csv_path).is_file()
                c.execute("UPDATE sessions SET status = 'interrupted', ended = ?, "
                          "summary_json = ?, csv_sha256 = ? WHERE id = ?",
                          ((last or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
                           json.dumps(self.stored_summary(sid)),
                           file_sha256(Path(csv_path)) if ok else None, sid))
            with contextlib.suppress(OSError):
                self._lock_path(sid).unlink()
            done.append(sid)
        return done


class SampleWriter:
    """Buffers samples and commits them in one transaction at most every flush_interval_s.

    Batching keeps the analysis thread fast (one commit a second, not 30); the interval
    bounds what a killed process can lose."""

    def __init__(self, store: Store, session_id: int, flush_interval_s: float = 1.0) -> None:
        self.store = store
        self.session_id = session_id
        self.flush_interval_s = flush_interval_s
        self.written = 0
        self._buffer: list[tuple] = []
        self._last_flush = time.monotonic()

    def add(self, row: dict) -> None:
        self._buffer.append(sample_tuple(row))
        if time.monotonic() - self._last_flush >= self.flush_interval_s:
            self.flush()

    def add_result(self, result: FrameResult) -> None:
        m = result.measurement
        self.add({"frame": result.frame.index, "time_s": result.frame.time_s,
                  "view": m.view, **m.values,
                  "posture_label": result.classification.label,
                  "score_overall": result.scores.get("score_overall"),
                  "alert_state": None if result.alert is None else result.alert.state.value})

    def flush(self) -> None:
        rows, self._buffer = self._buffer, []
        self.store.insert_samples(self.session_id, rows)
        self.written += len(rows)
        self._last_flush = time.monotonic()

    def close(self) -> None:
        self.flush()
