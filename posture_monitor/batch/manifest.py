"""DIR/manifest.csv: one row per input of a batch, what happened to it, and what a rerun
may skip.

A row is `done` only after every output of its video was renamed into place; `running`
rows of a batch that was killed, `interrupted` and `failed` rows are analysed again on the
next run. The file is rewritten whole, atomically (a temporary file, then a rename), so a
crash leaves the previous complete version, never half a table."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from posture_monitor.core.common.errors import UserError
from posture_monitor.core.common.private_files import write_private_text
from posture_monitor.core.records.store_io import safe_cell, unsafe_cell

MANIFEST_NAME = "manifest.csv"
COLUMNS = (
    "input",  # absolute path of the video (or folder of photos)
    "stem",  # its result files are DIR/<stem>.csv, .json, ...
    "status",  # pending | running | done | failed | interrupted
    "input_sha256", "input_bytes", "input_mtime_ns",
    "settings_sha256",  # of the analysis settings, output options and model files
    "frames", "frames_with_pose", "wall_s",
    "error",  # one line for failed and interrupted rows
    "outputs",  # ';'-separated, relative to DIR
    "started", "finished",  # UTC, ISO 8601
    "worker",  # host:pid of the Dask worker
    "software_version", "pose_model", "pose_model_sha256", "classifier", "classifier_sha256",
    "patient",  # the manifest row's patient, if any
    "options",  # the video's own options from a CSV list of videos, as key=value;...
)
RETRIED = ("pending", "running", "failed", "interrupted")


@dataclass
class Manifest:
    path: Path
    rows: dict[str, dict[str, str]] = field(default_factory=dict)  # by input

    @classmethod
    def load(cls, out_dir: Path) -> Manifest:
        path = Path(out_dir) / MANIFEST_NAME
        manifest = cls(path)
        if not path.exists():
            return manifest
        fix = ("move it aside to start the batch afresh, or choose another --out folder")
        try:
            with open(path, newline="", encoding="utf-8") as fh:
                reader = csv.DictReader(fh)
                header = reader.fieldnames or []
                rows = list(reader)
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise UserError(f"{path} cannot be read ({exc}): {fix}") from None
        missing = [c for c in ("input", "stem", "status") if c not in header]
        if missing:
            raise UserError(f"{path} is not a batch manifest (no {missing[0]!r} column): {fix}")
        for n, row in enumerate(rows, start=2):
            if None in row or not row.get("input") or not row.get("stem"):
                raise UserError(f"{path} row {n} is damaged: {fix}")
            manifest.rows[unsafe_cell(row["input"])] = {c: unsafe_cell(row.get(c) or "")
                                                   for c in COLUMNS}
        return manifest

    def row(self, input_path: Path) -> dict[str, str] | None:
        return self.rows.get(str(input_path))

    def update(self, input_path: Path, **cells: object) -> dict[str, str]:
        row = self.rows.setdefault(str(input_path), {c: "" for c in COLUMNS})
        row["input"] = str(input_path)
        for key, value in cells.items():
            if key not in COLUMNS:
                raise KeyError(key)
            row[key] = "" if value is None else str(value)
        return row

    def stems(self) -> set[str]:
        return {row["stem"].casefold() for row in self.rows.values()}

    def save(self) -> None:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in self.rows.values():
            writer.writerow([safe_cell(row.get(c, "")) for c in COLUMNS])
        write_private_text(self.path, buf.getvalue(), newline="")

