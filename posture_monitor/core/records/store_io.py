"""Sessions to and from files: export (CSV + JSON) and import of exports and `analyze` CSVs.

Exports go to people who open them in a spreadsheet, so free text is defused against
formula injection (`safe_cell`), and `anonymize` leaves out what could name the person.
Import takes back an export or the per-frame CSV of `posture-monitor analyze` (with its
JSON sidecar), so runs made outside the app can join a patient's history.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import math
import re
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from posture_monitor.core.common.errors import UserError
from posture_monitor.core.common.hashing import file_sha256
from posture_monitor.core.common.private_files import write_private_text
from posture_monitor.core.common.safe_text import (
    bad_char,
    describe_char,
    patient_id_problem,
    printable,
)
from posture_monitor.core.measure.definitions import VIEWS
from posture_monitor.core.records.exercise_schema import EXERCISE_SCHEMA, stored_exercise
from posture_monitor.core.records.exercise_store import exercise_of, save_exercise
from posture_monitor.core.records.gait_schema import GAIT_SCHEMA, stored_gait
from posture_monitor.core.records.gait_store import gait_of, save_gait
from posture_monitor.core.records.outputs import database_files, refuse_database
from posture_monitor.core.records.samples import (
    ALERT_STATES,
    FRAME_MAX,
    SAMPLE_COLUMNS,
    TEXT_COLUMNS,
    VALUE_RANGES,
    parse_time,
)
from posture_monitor.core.records.store import Store, now_iso

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
    path = Path(path)
    for target in (path, path.with_suffix(".json")):
        refuse_database(target, database_files(store.path))
    store.check_integrity()  # never export what a damaged file may have garbled
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
    exercise = exercise_of(store, session_id)
    if exercise is not None:  # numbers and names of the exercise only: nothing personal
        meta["exercise"] = exercise
    gait = gait_of(store, session_id)
    if gait is not None:  # numbers of the walk and track numbers: nothing personal
        meta["gait"] = gait
    _write_private(path, buf.getvalue())
    _write_private(path.with_suffix(".json"), json.dumps(meta, indent=2) + "\n")


# -- import: every file is checked against an explicit schema (issue 11) -------------------
# A refused file changes nothing: rows are checked while they stream into one transaction
# that is rolled back on the first problem, which is named in one line (file, line, field).
CSV_BATCH = 5000  # rows per executemany: memory stays flat however long the file is
MAX_COLUMNS = 5000
MAX_SIDECAR_BYTES = 16 << 20
MAX_JSON_DEPTH = 64  # recorder and export sidecars nest 4 deep
CSV_LIMIT = ("{path} is not a posture-monitor CSV (no frame and time_s columns): import "
             "a file from posture-monitor analyze or a session export")
_REFUSED_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
                 (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))


def _show(value: Any, limit: int = 40) -> str:
    """A value from a file, quoted, escaped and cut short for a one-line message."""
    text = printable(value)
    return repr(text if len(text) <= limit else text[:limit] + "...")


_CR_LINE = re.compile(r"(?<=\r)(?!\n)(?=.)", re.S)


def _lines(fh: Any, path: Path, where: str) -> Iterator[str]:
    """The file's lines as text, refusing what is not UTF-8 (a BOM is fine: spreadsheets
    write one) with the line and byte that is wrong."""
    for n, raw in enumerate(fh, 1):
        if n == 1:
            for bom, name in _REFUSED_BOMS:
                if raw.startswith(bom):
                    raise UserError(f"{path} is {name} text: save it as UTF-8 ('CSV UTF-8' "
                                    f"in a spreadsheet) and import {where} again")
            raw = raw.removeprefix(codecs.BOM_UTF8)
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            col = len(raw[:exc.start].decode("utf-8", "replace")) + 1
            raise UserError(f"{path}, line {n}, column {col}: byte 0x{raw[exc.start]:02x} is "
                            "not UTF-8 text (a legacy encoding such as Windows-1252?): save "
                            f"it as UTF-8 ('CSV UTF-8' in a spreadsheet) and import {where} "
                            "again") from None
        if "\0" in line:
            raise UserError(f"{path}, line {n}: a NUL byte: this is a binary file, not a "
                            "CSV: import a file from posture-monitor analyze or a session "
                            "export")
        if "\r" in line.rstrip("\r\n"):  # lines ended by CR alone ("CSV (Macintosh)")
            yield from _CR_LINE.split(line)
        else:
            yield line


def _number_cell(text: str, col: str) -> float | None:
    """A number cell: None when empty (or NaN, no reading); ValueError saying why not."""
    text = text.strip()
    if not text:
        return None
    try:
        f = float(text)
    except ValueError:
        hint = " (use a decimal point)" if "," in text else ""
        raise ValueError(f"{_show(text)} is not a number{hint}") from None
    if math.isnan(f):
        return None
    lo, hi = VALUE_RANGES[col]
    if not lo <= f <= hi:  # infinity and 1e400 too
        raise ValueError(f"{_show(text)} is outside {lo:g} to {hi:g}")
    return f


def _frame_cell(text: str) -> int:
    text = text.strip()
    if not text:
        raise ValueError("is empty (every row needs its frame number)")
    try:
        if text.isascii() and text.isdigit() and len(text) <= 10:
            n = int(text)
        else:
            f = float(text)  # "12.0" or "1.2E+01" from a spreadsheet
            n = int(f) if math.isfinite(f) and f.is_integer() else -1
        if not 0 <= n <= FRAME_MAX:
            raise ValueError(text)
        return n
    except ValueError:
        raise ValueError(f"{_show(text)} is not a frame number (a whole number from 0 to "
                         f"{FRAME_MAX})") from None


def _text_cell(text: str, col: str) -> str | None:
    if not text:
        return None
    value = unsafe_cell(text)
    if col == "view" and value not in VIEWS:
        raise ValueError(f"{_show(value)} is not a view ({', '.join(VIEWS)})")
    if col == "alert_state" and value not in ALERT_STATES:
        raise ValueError(f"{_show(value)} is not an alert state ({', '.join(ALERT_STATES)})")
    if len(value) > 200:
        raise ValueError(f"is {len(value)} characters long, at most 200 are allowed")
    ch = bad_char(value)
    if ch is not None:
        raise ValueError(f"contains {describe_char(ch)}")
    return value


def _delimiter(header_line: str) -> str:
    """',' (ours), or ';' or a tab where a spreadsheet saved it that way."""
    for delim in (",", ";", "\t"):
        names = {n.strip().strip('"') for n in header_line.split(delim)}
        if {"frame", "time_s"} <= names:
            return delim
    return ","


def _read_rows(path: Path) -> Iterator[tuple[int, tuple]]:
    """(line number, sample tuple) for each row, streamed; UserError on the first row
    that does not fit the column schema (SAMPLE_COLUMNS with VALUE_RANGES, VIEWS,
    ALERT_STATES, one-line text)."""
    not_ours = CSV_LIMIT.format(path=path)
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        raise UserError(f"{path} does not exist: give the path of a CSV file") from None
    except OSError as exc:
        raise UserError(f"{path} cannot be read ({exc.strerror}): check the file") from None
    with fh:
        lines = _lines(fh, path, "it")
        first = next(lines, None)
        if first is None:
            raise UserError(f"{path} is empty: import a file from posture-monitor analyze or "
                            "a session export")
        reader = csv.reader(itertools.chain([first], lines), delimiter=_delimiter(first))
        try:
            header = [h.strip() for h in next(reader)]
            if not {"frame", "time_s"} <= set(header) or len(header) > MAX_COLUMNS:
                raise UserError(not_ours)
            twice = next((h for h in header if h and header.count(h) > 1), None)
            if twice is not None:
                raise UserError(f"{path}, line 1: column {_show(twice)} appears twice: keep "
                                "one and import again")
            where = {c: header.index(c) for c in SAMPLE_COLUMNS if c in header}
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue  # a blank line, or a spreadsheet's empty row
                if len(row) != len(header):
                    raise UserError(f"{path}, line {reader.line_num}: {len(row)} fields where "
                                    f"the header has {len(header)} (a cut-off last line?): "
                                    "fix or remove that row")
                out: list[Any] = []
                for col in SAMPLE_COLUMNS:
                    i = where.get(col)
                    try:
                        if col == "frame":
                            out.append(_frame_cell(row[i]))
                        elif i is None:
                            out.append(None)
                        elif col in TEXT_COLUMNS:
                            out.append(_text_cell(row[i], col))
                        else:
                            out.append(_number_cell(row[i], col))
                    except ValueError as exc:
                        raise UserError(f"{path}, line {reader.line_num}, column {col}: {exc}:"
                                        " fix or remove that row") from None
                yield reader.line_num, tuple(out)
        except csv.Error as exc:
            raise UserError(f"{path}, line {reader.line_num}: not readable as CSV ({exc}): "
                            "import a file from posture-monitor analyze or a session export"
                            ) from None


# The sidecar's schema. Only what import reads is described; the rest of a recorder
# sidecar (metric table, labels, baseline) may be anything. "number" and "integer" are
# finite here (the validator below): NaN, Infinity and 1e400 are refused.
_LINE = {"type": ["string", "null"], "maxLength": 4096, "format": "one-line"}
_FREE = {"type": ["string", "null"], "maxLength": 20000, "format": "free-text"}
_WHEN = {"type": ["string", "null"], "maxLength": 64, "format": "iso-time"}
_STATUS = _FREE | {"pattern": r"^(running|complete|interrupted|error:[\s\S]*)$"}
_PATIENT = {"type": ["string", "null"], "format": "patient-id"}
_SETTINGS = {"type": ["object", "null"]}
EXPORT_SCHEMA: dict = {
    "type": "object",
    "properties": {
        "format": {"const": EXPORT_FORMAT},
        "format_version": {"type": "integer", "minimum": 1, "maximum": 1},
        "anonymized": {"type": "boolean"},
        "patient": {"type": "object", "properties": {
            "id": _PATIENT, "display_name": _LINE, "notes": _FREE}},
        "session": {"type": "object", "properties": {
            "started": _WHEN, "ended": _WHEN, "source": _LINE, "model": _LINE,
            "status": _STATUS, "notes": _FREE,
            "csv_sha256": {"type": ["string", "null"], "pattern": "^[0-9a-f]{64}$"}}},
        "settings": _SETTINGS,
        "summary": {"type": ["object", "null"]},  # recomputed from the rows, never trusted
        "columns": {"type": "array", "items": {"type": "string"}},
        "exercise": EXERCISE_SCHEMA,
        "gait": GAIT_SCHEMA,
    },
}
_SIZE = {"type": ["integer", "null"], "minimum": 0, "maximum": 100_000}
RECORDER_SCHEMA: dict = {
    "type": "object",
    "properties": {
        "started": _WHEN, "finished": _WHEN, "status": _STATUS, "patient_id": _PATIENT,
        "settings": _SETTINGS,
        # an object in the recorder's sidecar, a text in older files
        "source": _LINE | {"type": ["string", "object", "null"], "properties": {
            "description": _LINE, "width": _SIZE, "height": _SIZE}},
        "model": _LINE | {"type": ["string", "object", "null"], "properties": {"name": _LINE}},
        "exercise": EXERCISE_SCHEMA,  # analyze --exercise, a recording in exercise mode
        "gait": GAIT_SCHEMA,  # analyze --gait
    },
}


def _validator(schema: dict) -> Any:
    import jsonschema  # only an import needs it

    def finite(_checker: Any, x: Any) -> bool:
        return (isinstance(x, (int, float)) and not isinstance(x, bool)
                and math.isfinite(x))

    def integer(checker: Any, x: Any) -> bool:
        return finite(checker, x) and float(x).is_integer()

    formats = jsonschema.FormatChecker(formats=())
    formats.checks("one-line")(lambda v: not isinstance(v, str) or bad_char(v) is None)
    formats.checks("free-text")(lambda v: not isinstance(v, str)
                                or bad_char(v, allow="\n\r\t") is None)
    formats.checks("patient-id")(lambda v: not isinstance(v, str) or not patient_id_problem(v))
    formats.checks("iso-time")(lambda v: not isinstance(v, str) or parse_time(v) is not None)
    base = jsonschema.Draft202012Validator
    cls = jsonschema.validators.extend(base, type_checker=base.TYPE_CHECKER.redefine_many(
        {"number": finite, "integer": integer}))
    return cls(schema, format_checker=formats)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, float) and not math.isfinite(value):
        name = "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"
        return f"{name} (not a JSON number)"
    if isinstance(value, (int, float)):
        return f"the number {value:g}" if abs(value) < 1e300 else "a number"
    if isinstance(value, str):
        return f"the text {_show(value)}"
    return "a list" if isinstance(value, list) else "an object"


_TYPE_WORDS = {"string": "text", "null": "null", "object": "an object", "array": "a list",
               "integer": "a whole number", "number": "a number", "boolean": "true/false"}


def _problem(err: Any) -> str:
    """One schema error in plain words."""
    v = err.instance
    if err.validator == "type":
        types = err.validator_value if isinstance(err.validator_value, list) else [
            err.validator_value]
        return f"is {_kind(v)}, must be {' or '.join(_TYPE_WORDS.get(t, t) for t in types)}"
    if err.validator == "format":
        ch = bad_char(v, allow="\n\r\t" if err.validator_value == "free-text" else "")
        return {"one-line": f"contains {describe_char(ch)}" if ch else "",
                "free-text": f"contains {describe_char(ch)}" if ch else "",
                "patient-id": f"{_show(v)} {patient_id_problem(v)}",
                "iso-time": f"{_show(v)} is not a date and time (ISO 8601, e.g. "
                            "2024-05-01T09:30:00+00:00)"}.get(err.validator_value, "is wrong")
    if err.validator == "pattern":
        return f"{_show(v)} is not one of the values allowed there"
    if err.validator == "enum":
        return f"is {_kind(v)}, not one of {', '.join(map(str, err.validator_value))}"
    if err.validator == "required":
        return "is missing"
    if err.validator == "maxLength":
        return f"is {len(v)} characters long, at most {err.validator_value} are allowed"
    if err.validator in ("minimum", "maximum"):
        return f"is {_kind(v)}, outside what this version reads ({err.validator} " \
               f"{err.validator_value})"
    return " ".join(printable(err.message).split())[:160]


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},:]')


def _json_line(text: str, path: Sequence[Any]) -> int:
    """The line of the value at `path` (keys and list indexes) in JSON `text`, found by
    following the brackets and keys; 1 for the whole document."""
    target = list(path)
    if not target:
        return 1
    stack: list[list] = []  # per open container: [key or index, expecting a key?]
    skip = re.compile(r"\s*")

    def line_at(pos: int) -> int:
        return text.count("\n", 0, skip.match(text, pos).end()) + 1

    for m in _TOKEN.finditer(text):
        tok = m.group()
        if tok in "{[":
            stack.append([None, True] if tok == "{" else [0, False])
            if tok == "[" and [f[0] for f in stack] == target:
                return line_at(m.end())
        elif tok in "]}":
            if stack:
                stack.pop()
        elif tok == ",":
            if stack and not stack[-1][1] and isinstance(stack[-1][0], int):
                stack[-1][0] += 1
                if [f[0] for f in stack] == target:
                    return line_at(m.end())
            elif stack:
                stack[-1][1] = True
        elif tok == ":":
            if stack:
                stack[-1][1] = False
        elif stack and stack[-1][1]:  # a key
            stack[-1][0] = json.loads(tok)
            if [f[0] for f in stack] == target:
                return line_at(m.start())
    return 1


def _json_depth(text: str) -> tuple[int, int]:
    """(deepest nesting, at which offset) of JSON text, without parsing (no recursion)."""
    depth = deepest = where = 0
    for m in _TOKEN.finditer(text):
        tok = m.group()
        if tok in "{[":
            depth += 1
            if depth > deepest:
                deepest, where = depth, m.start()
        elif tok in "]}":
            depth -= 1
    return deepest, where


def _load_sidecar(side: Path) -> tuple[Any, str] | None:
    """(parsed JSON, its text), None when there is no sidecar."""
    fix = "fix it, or move it aside to import the CSV alone"
    try:
        if side.stat().st_size > MAX_SIDECAR_BYTES:
            raise UserError(f"{side} is larger than {MAX_SIDECAR_BYTES >> 20} MB, no sidecar "
                            f"of posture-monitor is: {fix}")
        with open(side, "rb") as fh:
            text = "".join(_lines(fh, side, "its CSV"))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UserError(f"{side} cannot be read ({exc.strerror}): {fix}") from None
    deepest, where = _json_depth(text)
    if deepest > MAX_JSON_DEPTH:
        raise UserError(f"{side}, line {text.count(chr(10), 0, where) + 1}: nested "
                        f"{deepest} levels deep (a sidecar has a few): {fix}")
    try:  # a huge integer is kept as infinity, so the schema refuses it with its field
        value = json.loads(text, parse_int=lambda s: int(s) if len(s) <= 300 else math.inf)
    except json.JSONDecodeError as exc:
        raise UserError(f"{side}, line {exc.lineno}: not valid JSON ({exc.msg}): "
                        f"{fix}") from None
    except (ValueError, RecursionError) as exc:
        raise UserError(f"{side}: not valid JSON ({exc.__class__.__name__}): {fix}") from None
    return value, text


def _read_meta(csv_path: Path) -> dict:
    """The sidecar as session fields, checked against its schema; {} when there is none
    (a bare CSV still imports)."""
    side = csv_path.with_suffix(".json")
    loaded = _load_sidecar(side)
    if loaded is None:
        return {}
    meta, text = loaded
    ours = isinstance(meta, dict) and meta.get("format") == EXPORT_FORMAT
    import jsonschema

    err = jsonschema.exceptions.best_match(
        _validator(EXPORT_SCHEMA if ours else RECORDER_SCHEMA).iter_errors(meta))
    if err is not None:
        path = list(err.absolute_path)
        line = _json_line(text, path)  # a missing field: the line of the object
        if err.validator == "required":  # the exercise object's preset and repetitions
            path = [*path, *err.message.split("'")[1:2]]
        field = ".".join(printable(p) for p in path) or "the whole file"
        raise UserError(f"{side}, line {line}, field {field}: "
                        f"{_problem(err)}: fix that field, or move the .json aside to import "
                        "the CSV alone")
    if ours:  # our own export
        s, p = meta.get("session") or {}, meta.get("patient") or {}
        return {k: _untext(v) for k, v in {
            "started": s.get("started"), "ended": s.get("ended"), "source": s.get("source"),
            "model": s.get("model"), "status": s.get("status"), "notes": s.get("notes"),
            "settings": meta.get("settings") or {}, "patient_id": p.get("id"),
            "display_name": p.get("display_name"), "patient_notes": p.get("notes"),
            "exercise": _exercise(meta), "gait": _gait(meta)}.items()}
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
        "exercise": _exercise(meta), "gait": _gait(meta),
    }


def _gait(meta: dict) -> dict | None:
    gait = meta.get("gait")
    return stored_gait(gait) if isinstance(gait, dict) else None


def _exercise(meta: dict) -> dict | None:
    """The sidecar's exercise object (checked against EXERCISE_SCHEMA) as it is stored."""
    exercise = meta.get("exercise")
    return stored_exercise(exercise) if isinstance(exercise, dict) else None


def import_session(store: Store, csv_path: Path, patient_id: str | None = None,
                   again: bool = False) -> int:
    """A new session from a CSV (+ sidecar); the patient is `patient_id`, else the one in
    the sidecar; an unknown patient is created. A file whose sha256 a stored session has
    already is refused unless `again`. All or nothing: a refused file leaves the store as
    it was. Returns the new session id."""
    csv_path = Path(csv_path)
    meta = _read_meta(csv_path)
    pid = patient_id or meta.get("patient_id")
    if not pid:
        raise UserError(f"{csv_path} names no patient: give one with --patient ID")
    try:
        sha = file_sha256(csv_path)
    except FileNotFoundError:
        raise UserError(f"{csv_path} does not exist: give the path of a CSV file") from None
    except OSError as exc:
        raise UserError(f"{csv_path} cannot be read ({exc.strerror}): check the file") from None
    status = meta.get("status") or "complete"
    status = " ".join(status.split())  # an error's text may span lines: one line here
    marks = ", ".join("?" * (len(SAMPLE_COLUMNS) + 1))
    insert = f"INSERT INTO samples (session_id, {', '.join(SAMPLE_COLUMNS)}) VALUES ({marks})"
    with store.transaction() as c:  # all or nothing: no half-imported session
        if not again:
            same = c.execute("SELECT id, patient_id FROM sessions WHERE csv_sha256 = ? "
                             "ORDER BY id LIMIT 1", (sha,)).fetchone()
            if same is not None:
                raise UserError(f"{csv_path} is stored already: session {same[0]} of patient "
                                f"{printable(same[1])} has the same sha256 ({sha[:12]}...); "
                                "pass --again to import it once more")
        if store.patient(pid) is None:
            named = pid == meta.get("patient_id")  # the name belongs to the sidecar's patient
            store.add_patient(pid, meta.get("display_name") if named else None,
                              meta.get("patient_notes") if named else None)
        sid = int(c.execute(
            "INSERT INTO sessions (patient_id, started, ended, source, model, settings_json, "
            "status, csv_path, csv_sha256, notes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (pid, meta.get("started") or now_iso(), meta.get("ended") or meta.get("started"),
             meta.get("source") or csv_path.name, meta.get("model"),
             json.dumps(meta.get("settings") or {}, default=str), status,
             str(csv_path.resolve()), sha, meta.get("notes"))).lastrowid)
        rows = 0
        batch: list[tuple[int, tuple]] = []

        def flush() -> None:
            before = c.total_changes
            try:
                c.executemany(insert, [(sid, *r) for _, r in batch])
            except sqlite3.IntegrityError:
                line, row = batch[c.total_changes - before]  # the row that failed
                raise UserError(f"{csv_path}, line {line}: frame {row[0]} appears a second "
                                "time: import one session per file") from None
            batch.clear()

        for item in _read_rows(csv_path):
            batch.append(item)
            rows += 1
            if len(batch) >= CSV_BATCH:
                flush()
        flush()
        if not rows:
            raise UserError(f"{csv_path} has a header but no rows: there is nothing to "
                            "import")
        c.execute("UPDATE sessions SET summary_json = ? WHERE id = ?",
                  (json.dumps(store.stored_summary(sid)), sid))
        if meta.get("exercise") is not None:  # in the same transaction: all or nothing
            save_exercise(store, sid, meta["exercise"])
        if meta.get("gait") is not None:
            save_gait(store, sid, meta["gait"])
    return sid
