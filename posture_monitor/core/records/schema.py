"""The session database's file name, place and schema (its migrations, in order)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

from posture_monitor.core.common.paths import data_home

DB_NAME = "posture-monitor.sqlite3"

# Append only, never edit a released entry: a user's file is at version len(applied), and
# each script runs once, in order, in its own transaction. Literal SQL (not generated from
# METRIC_COLUMNS) so a later change of the metric table cannot rewrite history.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE patients (
        id TEXT PRIMARY KEY,  -- pseudonymous ID, never a real name by design
        display_name TEXT, notes TEXT, created TEXT
    );
    CREATE TABLE baselines (
        id INTEGER PRIMARY KEY, patient_id TEXT REFERENCES patients(id) ON DELETE CASCADE,
        camera TEXT, baseline_json TEXT, created TEXT
    );
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY, patient_id TEXT REFERENCES patients(id) ON DELETE CASCADE,
        started TEXT, ended TEXT, source TEXT, model TEXT, settings_json TEXT,
        summary_json TEXT, csv_path TEXT, csv_sha256 TEXT, status TEXT
    );
    CREATE TABLE samples (
        session_id INTEGER REFERENCES sessions(id) ON DELETE CASCADE,
        frame INTEGER, time_s REAL, view TEXT, cva_deg REAL, neck_incl_deg REAL,
        torso_incl_deg REAL, head_flex_deg REAL, shoulder_tilt_deg REAL, head_tilt_deg REAL,
        lateral_lean_deg REAL, fwd_head_ratio REAL, posture_label TEXT, score_overall REAL,
        alert_state TEXT,
        PRIMARY KEY (session_id, frame)
    );
    CREATE INDEX baselines_patient ON baselines(patient_id, camera);
    CREATE INDEX sessions_patient ON sessions(patient_id, started);
    """,
    """
    ALTER TABLE sessions ADD COLUMN notes TEXT;
    CREATE INDEX samples_time ON samples(session_id, time_s);
    """,
    # v3: the front-view head and upper-trunk measures (issue 10)
    """
    ALTER TABLE samples ADD COLUMN head_fwd_cm REAL;
    ALTER TABLE samples ADD COLUMN head_size_ratio REAL;
    ALTER TABLE samples ADD COLUMN neck_height_ratio REAL;
    ALTER TABLE samples ADD COLUMN head_pitch_deg REAL;
    ALTER TABLE samples ADD COLUMN trunk_flex_3d_deg REAL;
    """,
    # v4 (issue 11): who is writing a running session (host and process; the lock file
    # tells whether it still lives) and when it last wrote, so a session whose process
    # died is finished on the next start; the CSV's hash looked up for duplicate imports.
    """
    ALTER TABLE sessions ADD COLUMN writer_host TEXT;
    ALTER TABLE sessions ADD COLUMN writer_pid INTEGER;
    ALTER TABLE sessions ADD COLUMN updated TEXT;
    CREATE INDEX sessions_csv_sha256 ON sessions(csv_sha256);
    CREATE INDEX sessions_status ON sessions(status);
    """,
    # v5 (issue 12): baselines were never stored here (the window keeps its profiles in
    # core/posture/baseline.py's files); the empty table and its index go.
    """
    DROP INDEX IF EXISTS baselines_patient;
    DROP TABLE IF EXISTS baselines;
    """,
    # v6 (issue 13): an exercise's result per session (the sidecar's `exercise` object:
    # its summary, and its repetitions one row each in per_rep_json), and a patient's
    # goals per exercise and measure ("knee flexion at least 110 deg").
    """
    CREATE TABLE exercise_results (
        session_id INTEGER PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
        preset TEXT NOT NULL, side TEXT, summary_json TEXT NOT NULL,
        per_rep_json TEXT NOT NULL
    );
    CREATE INDEX exercise_results_preset ON exercise_results(preset);
    CREATE TABLE goals (
        id INTEGER PRIMARY KEY AUTOINCREMENT,  -- ids are typed to delete: never reused
        patient_id TEXT NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
        preset TEXT NOT NULL, measure TEXT NOT NULL,
        direction TEXT NOT NULL CHECK (direction IN ('at_least', 'at_most')),
        value REAL NOT NULL, unit TEXT, created TEXT, note TEXT
    );
    CREATE INDEX goals_patient ON goals(patient_id, preset);
    """,
    # v7 (issue 14): a gait analysis's result per session (the sidecar's `gait` object,
    # less the paths of its files; with the mean and SD curves of the strides, which the
    # report overlays). Gait goals are rows of `goals` with preset 'gait' (gait_store.py).
    """
    CREATE TABLE gait_results (
        session_id INTEGER PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
        summary_json TEXT NOT NULL
    );
    """,
    # v8 (issue 15): the every-view 3D trunk and neck metrics (trunk_flex_3d_deg is there
    # since v3; it is now measured in every view)
    """
    ALTER TABLE samples ADD COLUMN trunk_tilt_3d_deg REAL;
    ALTER TABLE samples ADD COLUMN trunk_lateral_3d_deg REAL;
    ALTER TABLE samples ADD COLUMN neck_flex_3d_deg REAL;
    ALTER TABLE samples ADD COLUMN head_fwd_3d_cm REAL;
    """,
]


def db_path() -> Path:
    """In the data folder (core/common/paths.py: POSTURE_MONITOR_DATA_HOME moves it)."""
    return data_home() / DB_NAME


def _statements(script: str) -> Iterator[str]:
    # Split on ';' but only where SQLite agrees a statement ends, so executing them one by
    # one keeps the whole migration inside our transaction (executescript would commit).
    buf = ""
    for part in script.split(";"):
        buf += part + ";"
        if sqlite3.complete_statement(buf):
            if buf.strip(" \n\t;"):
                yield buf
            buf = ""
