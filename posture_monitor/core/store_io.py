"""Sessions to and from files: export (CSV + JSON) and import of exports and `analyze` CSVs.

Exports go to people who open them in a spreadsheet, so free text is defused against
formula injection (`safe_cell`), and `anonymize` leaves out what could name the person.
Import takes back an export or the per-frame CSV of `posture-monitor analyze` (with its
JSON sidecar), so runs made outside the app can join a patient's history.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

from posture_monitor.core.errors import UserError
from posture_monitor.core.outputs import database_files, refuse_database
from posture_monitor.core.private_files import write_private_text
from posture_monitor.core.store import (
    SAMPLE_COLUMNS,
    TEXT_COLUMNS,
    Store,
    file_sha256,
    now_iso,
    sample_tuple,
    summarize,
)

EXPORT_FORMAT = "posture-monitor-session"
# OWASP's list: a cell starting with one of these is a formula (or becomes one) in Excel,
# LibreOffice and Google Sheets.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """Prefix a quote to text a spreadsheet would run as a formula ('=HYPERLINK(..)').

    Only for free text: a number such as -12.5 must stay a number, so callers apply it to
    text columns and fields only."""
    return "'" + value if value.startswith(FORMULA_START) else value


def unsafe_cell(value: str) -> str:
    """Undo `safe_cell` on import (a text that started with a quote and a formula
    character cannot be told apart from a defused one; such text is not expected)."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_START) else value


def _text(value: Any) -> Any:
    return safe_cell(value) if isinstance(value, str) else value


def _untext(value: Any) -> Any:
    return unsafe_cell(value) if isinstance(value, str) else value


def _write_private(path: Path, text: str) -> None:
    # Exports hold health data: atomic and user-only, like every private file here.
    write_private_text(path, text, newline="")


def _cell(col: str, value: Any) -> str:
    if col in TEXT_COLUMNS:
        return "" if value is None else safe_cell(str(value))
    if col == "frame":
        return str(int(value))
    # repr gives the shortest text that reads back to the same float: a lossless round trip
    return "" if value is None or math.isnan(value) else repr(float(value))


def export_session(store: Store, session_id: int, path: Path, anonymize: bool = False) -> None:
    """`path` (CSV, one row per frame) and `path.with_suffix('.json')` (meta), both 0o600.
    Neither may be the database itself (or its -wal/-shm file): OutputError."""
    for target in (path, path.with_suffix(".json")):
        refuse_database(target, database_files(store.path))
    s = store.session(session_id)
    samples = store.samples(session_id)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(SAMPLE_COLUMNS)
    for i in range(len(samples["frame"])):
        writer.writerow([_cell(c, samples[c][i]) for c in SAMPLE_COLUMNS])
    p = store.patient(s["patient_id"]) or {}
    patient = {"id": _text(s["patient_id"])}
    if not anonymize:  # a name and free notes could identify the person: never anonymized
        patient |= {"display_name": _text(p.get("display_name")), "notes": _text(p.get("notes"))}
    summary = dict(s["summary"] or {})
    if "labels" in summary:
        summary["labels"] = {_text(k): v for k, v in summary["labels"].items()}
    meta = {
        "format": EXPORT_FORMAT, "format_version": 1, "exported": now_iso(),
        "anonymized": anonymize, "patient": patient,
        "session": {k: _text(s[k]) for k in ("started", "ended", "source", "model", "status",
                                             "notes")} | {"csv_sha256": s["csv_sha256"]},
        "summary": summary, "settings": s["settings"], "columns": list(SAMPLE_COLUMNS),
    }
    _write_private(path, buf.getvalue())
    _write_private(path.with_suffix(".json"), json.dumps(meta, indent=2) + "\n")


def _read_rows(path: Path) -> list[tuple]:
    not_ours = (f"{path} is not a posture-monitor CSV (no frame and time_s columns): import "
                "a file from posture-monitor analyze or a session export")
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if not {"frame", "time_s"} <= set(reader.fieldnames or ()):
                raise UserError(not_ours)
            rows = []
            for row in reader:
                for c in TEXT_COLUMNS:
                    if row.get(c):
                        row[c] = unsafe_cell(row[c])
                try:
                    rows.append(sample_tuple(row))
                except (KeyError, TypeError, ValueError) as exc:
                    raise UserError(f"{path}, line {reader.line_num}: unreadable value "
                                    f"({exc}); fix or remove that row") from exc
    except FileNotFoundError as exc:
        raise UserError(f"{path} does not exist: give the path of a CSV file") from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UserError(not_ours) from exc
    if len({r[0] for r in rows}) != len(rows):
        raise UserError(f"{path} repeats frame numbers: import one session per file")
    return rows


def _read_meta(csv_path: Path) -> dict:
    """The sidecar as session fields; {} when there is none (a bare CSV still imports)."""
    side = csv_path.with_suffix(".json")
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
        if not isinstance(meta, dict):
            raise ValueError("not a JSON object")
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise UserError(f"{side} is unreadable ({exc.__class__.__name__}): fix it or move "
                        "it aside to import the CSV alone") from exc
    if meta.get("format") == EXPORT_FORMAT:  # our own export
        s, p = meta.get("session") or {}, meta.get("patient") or {}
        return {k: _untext(v) for k, v in {
            "started": s.get("started"), "ended": s.get("ended"), "source": s.get("source"),
            "model": s.get("model"), "status": s.get("status"), "notes": s.get("notes"),
            "settings": meta.get("settings") or {}, "patient_id": p.get("id"),
            "display_name": p.get("display_name"), "patient_notes": p.get("notes")}.items()}
    # A recorder sidecar (`analyze` or the app): source and model are objects there.
    source, model = meta.get("source"), meta.get("model")
    status = meta.get("status")
    return {
        "started": meta.get("started"), "ended": meta.get("finished"),
        "source": source.get("description") if isinstance(source, dict) else source,
        "model": model.get("name") if isinstance(model, dict) else model,
        # "running" in a finished file means the run was killed before it could say so
        "status": "interrupted" if status == "running" else status,
        "settings": meta.get("settings") or {}, "patient_id": meta.get("patient_id"),
    }


def import_session(store: Store, csv_path: Path, patient_id: str | None = None) -> int:
    """A new session from a CSV (+ sidecar); the patient is `patient_id`, else the one in
    the sidecar; an unknown patient is created. Returns the new session id."""
    rows = _read_rows(csv_path)
    meta = _read_meta(csv_path)
    pid = patient_id or meta.get("patient_id")
    if not pid:
        raise UserError(f"{csv_path} names no patient: give one with --patient ID")
    sha = file_sha256(csv_path)
    with store.transaction() as c:  # all or nothing: no half-imported session
        if store.patient(pid) is None:
            same = pid == meta.get("patient_id")  # the name belongs to the sidecar's patient
            store.add_patient(pid, meta.get("display_name") if same else None,
                              meta.get("patient_notes") if same else None)
        sid = store.start_session(pid, meta.get("source") or csv_path.name, meta.get("model"),
                                  meta.get("settings") or {}, started=meta.get("started"))
        store.insert_samples(sid, rows)
        c.execute("UPDATE sessions SET ended = ?, summary_json = ?, status = ?, csv_path = ?, "
                  "csv_sha256 = ?, notes = ? WHERE id = ?",
                  (meta.get("ended") or meta.get("started"),
                   json.dumps(summarize(store.samples(sid))), meta.get("status") or "complete",
                   str(csv_path.resolve()), sha, meta.get("notes"), sid))
    return sid
