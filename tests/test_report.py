"""PDF reports: page layout, honest progress statements, anonymisation, file permissions."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread, imsave

from posture_monitor.core.records.report import MDC_CVA_DEG, patient_report, session_report

NAME = "Jane Example"
PID = "P-0042"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} (poppler-utils) is not installed")
    return path


def _pages(pdf: Path, out: Path, res: int = 50) -> list[Path]:
    subprocess.run([_tool("pdftoppm"), "-r", str(res), "-png", str(pdf), str(out / "page")],
                   check=True)
    return sorted(out.glob("page-*.png"))


def _text(pdf: Path) -> str:
    proc = subprocess.run([_tool("pdftotext"), "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True)
    return proc.stdout


def make_samples(n: int = 600, fps: float = 10.0, seed: int = 1) -> dict[str, np.ndarray]:
    """A minute seen from the left: upright, a slouch, upright again, two gaps."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fps
    slouch = (t >= 20) & (t < 35)
    cva = np.where(slouch, 52.0, 75.0) + rng.normal(0, 1.5, n)
    torso = np.where(slouch, 26.0, -6.0) + rng.normal(0, 1.0, n)
    score = np.where(slouch, 82.0, 12.0) + rng.normal(0, 3.0, n)
    gap = ((t >= 10) & (t < 13)) | ((t >= 45) & (t < 48))  # looked away, out of frame
    for arr in (cva, torso, score):
        arr[gap] = np.nan
    nan = np.full(n, np.nan)  # frontal metrics: never measured in a side view
    alert = np.array([None if g else ("alert" if s else "ok")
                      for g, s in zip(gap, slouch, strict=True)], dtype=object)
    return {"time_s": t, "view": np.array(["left"] * n, dtype=object), "cva_deg": cva,
            "torso_incl_deg": torso, "shoulder_tilt_deg": nan.copy(),
            "head_tilt_deg": nan.copy(), "lateral_lean_deg": nan.copy(),
            "score_overall": score, "alert_state": alert}


def make_session(sid: int, day: int, cva: float | None, torso: float | None = -4.0,
                 good: float | None = 0.7) -> dict:
    return {
        "id": sid, "patient_id": PID, "display_name": NAME,
        "started": f"2025-03-{day:02d}T09:30:00", "ended": f"2025-03-{day:02d}T09:31:00",
        "source": "/home/clinic/videos/jane_example_visit.mp4", "model": "full",
        "classifier_sha256": "ab" * 32, "pose_model_sha256": "cd" * 32,
        "summary": {"frames": 540, "duration_s": 60.0, "cva_deg": cva,
                    "torso_incl_deg": torso, "shoulder_tilt_deg": None, "head_tilt_deg": None,
                    "lateral_lean_deg": float("nan"), "good_share": good},
    }


def make_history(cvas: tuple[float | None, ...] = (66.0, 69.5, 73.0)) -> list[dict]:
    return [make_session(i + 1, 3 + 7 * i, c) for i, c in enumerate(cvas)]


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    path = tmp_path / "snap.png"
    yy, xx = np.mgrid[0:120, 0:160]
    imsave(path, np.dstack([xx / 160, yy / 120, np.full_like(xx, 0.5, dtype=float)]))
    return path


def test_session_report_pages_and_plots(tmp_path, snapshot):
    history = make_history()
    pdf = session_report(history[-1], make_samples(), tmp_path / "r.pdf", history=history,
                         snapshots=[snapshot])
    assert pdf == tmp_path / "r.pdf"
    pages = _pages(pdf, tmp_path)
    # cover, time plots, progress, definitions (two pages since the front-view measures
    # joined the table), one snapshot
    assert len(pages) == 6
    plot = imread(pages[1])[..., :3]
    assert plot.std() > 0.05  # not a blank page
    chroma = plot.max(axis=2) - plot.min(axis=2)
    assert (chroma > 0.3).sum() > 200  # coloured plot lines, not just black text
    text = _text(pdf)
    assert "Posture Monitor session report" in text
    assert "Measurements, not a diagnosis" in text
    assert NAME in text and PID in text
    assert "no reading" in text  # frontal metrics in a side view: missing, not 0
    assert "Definitions used" in text and "Gallego-Izquierdo" in text


def test_session_report_without_history_has_no_progress_page(tmp_path):
    pdf = session_report(make_session(7, 1, 74.0), make_samples(), tmp_path / "r.pdf")
    assert len(_pages(pdf, tmp_path)) == 4  # cover, time plots, definitions (two pages)
    assert "Change since first visit" not in _text(pdf)


@pytest.mark.parametrize(("cvas", "word"), [((66.0, 69.5, 73.0), "beyond"),
                                            ((70.0, 72.0, 73.5), "within")])
def test_progress_change_is_called_beyond_or_within_the_mdc(tmp_path, cvas, word):
    assert abs(cvas[-1] - cvas[0]) != pytest.approx(MDC_CVA_DEG)
    history = make_history(cvas)
    pdf = session_report(history[-1], make_samples(), tmp_path / "r.pdf", history=history)
    text = " ".join(_text(pdf).split())
    assert f"Change since first visit: {cvas[-1] - cvas[0]:+.1f} deg ({word}" in text
    assert "within measurement noise (MDC 5 deg)" in text


def test_anonymised_report_hides_name_source_and_snapshots(tmp_path, snapshot):
    history = make_history()
    pdf = session_report(history[-1], make_samples(), tmp_path / "r.pdf", history=history,
                         snapshots=[snapshot], anonymize=True)
    text = _text(pdf)
    assert PID in text
    assert "jane" not in text.lower()  # neither the name nor the file name carrying it
    assert "left out" in text
    assert len(_pages(pdf, tmp_path)) == 5  # the snapshot shows the person: left out


def test_patient_report_lists_three_visits_one_without_cva_and_the_change(tmp_path):
    sessions = make_history((66.0, None, 71.5))
    for s in sessions:
        s["samples"] = None
    pdf = patient_report({"id": PID, "display_name": NAME}, sessions, tmp_path / "p.pdf")
    pages = _pages(pdf, tmp_path)
    assert len(pages) == 4  # sessions table, progress, definitions (two pages)
    assert imread(pages[1])[..., :3].std() > 0.05
    text = _text(pdf)
    assert "Posture Monitor patient report" in text and NAME in text
    row = next(line for line in text.splitlines() if line.lstrip().startswith("2025-03-10"))
    assert "no reading" in row and "0.0 deg" not in row  # the visit without a CVA
    assert "Change since first visit: +5.5 deg (beyond" in " ".join(text.split())


def test_patient_report_anonymised_shows_the_id_not_the_name(tmp_path):
    pdf = patient_report({"id": PID, "display_name": NAME}, make_history(), tmp_path / "p.pdf",
                         anonymize=True)
    text = _text(pdf)
    assert PID in text and NAME not in text


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_reports_are_user_only_even_over_a_shared_file(tmp_path):
    old = tmp_path / "r.pdf"
    old.write_bytes(b"old")
    old.chmod(0o644)
    pdf = session_report(make_session(1, 1, 70.0), make_samples(), old)
    assert pdf.stat().st_mode & 0o777 == 0o600
    pdf2 = patient_report({"id": PID, "display_name": None}, make_history(),
                          tmp_path / "sub" / "p.pdf")
    assert pdf2.stat().st_mode & 0o777 == 0o600
