"""Agreement of the 3D trunk and neck metrics across the four synchronized Pose2Sim cameras.

    python bench/pose2sim_3d_agreement.py [FOLDER] [--calibration 0:0.2] [--model full]
                                          [--json] [--cache FILE.npz]

The Pose2Sim demo (BSD-3-Clause; tests/.media/pose2sim_cam0{1..4}.mp4, fetched by
tools/fetch_test_media.py, or ../shared/data/real/pose2sim_single/) films one person
balancing on one leg from four cameras at once: 1080x1920 portrait, 60 fps, 100 frames,
synchronized frame for frame. Most frames are oblique or seen from behind, where every 2D
metric is withheld. The 3D metrics (definitions.py, kinds *_3d) read there.

Runs the real pipeline (`PosePipeline`: the full model, One Euro smoothing on as shipped,
no classifier) over each camera, then measures every frame's pose with
`metrics.measure` under three camera tilts:

* none         the camera's own vertical (what a stream without a tilt estimate gets);
* upright      camera_tilt.UprightCalibration over --calibration seconds (default 0-0.2 s,
               the 12 frames before the person starts to move: they stand upright, trunk
               1-6 deg from vertical in the triangulation below);
* reference    the tilt from the Pose2Sim demo's own lab calibration of each camera
               (Demo_SinglePerson/calibration/Calib_scene.toml: the best a tilt estimate
               could do with these landmarks).

Prints per column: the fill rate per camera (all frames, and the oblique and back frames
alone), and the mean absolute difference between each pair of cameras over the frames
both filled. Then the estimator's error (its pitch and roll against the reference), and
trunk_tilt_3d_deg against an independent reference: the trunk triangulated from the four
cameras' 2D landmarks with the lab calibration (a multi-camera reconstruction in the
lab's axes, z up).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from posture_monitor.core.common.settings import QualitySettings  # noqa: E402
from posture_monitor.core.measure.camera_tilt import CameraTilt, UprightCalibration  # noqa: E402
from posture_monitor.core.measure.definitions import ANY_VIEW, METRICS  # noqa: E402
from posture_monitor.core.measure.metrics import measure  # noqa: E402
from posture_monitor.core.vision.landmarks import INDEX  # noqa: E402
from posture_monitor.core.vision.pose import Pose  # noqa: E402

CAMS = (1, 2, 3, 4)
FOLDERS = (ROOT / "tests" / ".media", ROOT.parent / "shared" / "data" / "real" / "pose2sim_single")
COLUMNS = tuple(m.column for m in METRICS if m.views == ANY_VIEW)
TILTS = ("none", "upright", "reference")
# The Pose2Sim demo's lab calibration (Calib_scene.toml of Pose2Sim/Demo_SinglePerson,
# BSD-3-Clause, perfanalytics/pose2sim): per camera the intrinsic matrix (fx, fy, cx, cy),
# the distortions (k1, k2, p1, p2) and the extrinsics (Rodrigues rotation, translation in
# metres), world -> camera, lab z pointing up.
LAB = {
    1: ((1671.5012, 1671.3867, 564.6403, 933.0075), (-0.053103, 0.151004, -0.000120, 0.000650),
        (1.678785, 1.031973, -0.391024), (0.260948, 0.964159, 2.932963)),
    2: ((1675.7081, 1675.4079, 555.7799, 937.7259), (-0.052060, 0.149179, 0.000017, -0.000655),
        (1.357860, 1.579657, -1.182201), (-0.165270, 0.808409, 3.204495)),
    3: ((1678.7524, 1678.1876, 556.0713, 928.1978), (-0.031226, 0.009202, -0.000879, -0.000020),
        (0.786049, -2.186388, 1.433604), (-0.850431, 0.413637, 4.297891)),
    4: ((1690.8622, 1689.2411, 535.7642, 933.0005), (-0.047186, 0.100684, 0.002422, -0.001051),
        (1.405189, -1.390963, 0.443665), (0.511162, 0.112550, 4.410360)),
}


def _rotation(cam: int) -> np.ndarray:
    return cv2.Rodrigues(np.array(LAB[cam][2], dtype=float))[0]


def reference_tilt(cam: int) -> CameraTilt:
    """The camera's tilt from the lab calibration: the lab's down (-z) in camera axes."""
    return CameraTilt(tuple(-_rotation(cam)[:, 2]), "pose2sim_calibration")


def default_folder() -> Path:
    for f in FOLDERS:
        if (f / "pose2sim_cam01.mp4").exists() or (f / "cam01.mp4").exists():
            return f
    return FOLDERS[0]


def _clip(folder: Path, cam: int) -> Path:
    named = folder / f"pose2sim_cam0{cam}.mp4"
    return named if named.exists() else folder / f"cam0{cam}.mp4"


def track(video: Path, model: str = "full") -> dict:
    """Every frame's (smoothed) pose, view and frame size through the shipped pipeline."""
    from posture_monitor.core.capture.sources import open_source
    from posture_monitor.core.capture.worker import CaptureWorker
    from posture_monitor.core.common.settings import AnalysisSettings
    from posture_monitor.core.posture.pipeline import PosePipeline

    out = {"t": [], "views": [], "poses": []}
    with PosePipeline(AnalysisSettings(model=model, classifier="none")) as pipe, \
            open_source(video) as src:
        for frame in CaptureWorker(src).frames():
            r = pipe.process(frame)
            out["t"].append(frame.time_s)
            out["views"].append(r.measurement.view)
            out["poses"].append(r.pose)
            out["size"] = frame.image.shape[1], frame.image.shape[0]
    return out


def _save(tracks: dict, path: Path) -> None:
    arrays = {}
    for cam, tr in tracks.items():
        have = np.array([p is not None for p in tr["poses"]])
        for key in ("image", "world", "visibility", "presence"):
            arrays[f"{cam}_{key}"] = np.array([getattr(p, key) if p is not None else
                                               np.zeros_like(getattr(tr["poses"][0], key))
                                               for p in tr["poses"]])
        arrays[f"{cam}_have"], arrays[f"{cam}_t"] = have, np.array(tr["t"])
        arrays[f"{cam}_views"], arrays[f"{cam}_size"] = np.array(tr["views"]), tr["size"]
    np.savez_compressed(path, **arrays)


def _load(path: Path) -> dict:
    d = np.load(path)
    tracks = {}
    for cam in CAMS:
        poses = [Pose(*(d[f"{cam}_{k}"][i] for k in ("image", "world", "visibility",
                                                      "presence"))) if h else None
                 for i, h in enumerate(d[f"{cam}_have"])]
        tracks[cam] = {"t": list(d[f"{cam}_t"]), "views": [str(v) for v in d[f"{cam}_views"]],
                       "poses": poses, "size": tuple(int(x) for x in d[f"{cam}_size"])}
    return tracks


def measured(tr: dict, tilt: CameraTilt | None, q: QualitySettings) -> dict[str, np.ndarray]:
    w, h = tr["size"]
    rows = [measure(p, w, h, q, tilt).values for p in tr["poses"]]
    return {c: np.array([math.nan if r[c] is None else r[c] for r in rows]) for c in COLUMNS}


def triangulated_tilt(tracks: dict) -> np.ndarray:
    """Trunk tilt from vertical (deg) in the lab, from the four cameras' 2D landmarks
    (linear triangulation of both shoulders and hips, undistorted, lab calibration)."""
    names = ("left_shoulder", "right_shoulder", "left_hip", "right_hip")
    n = len(tracks[CAMS[0]]["poses"])
    rays = {}
    for cam in CAMS:
        fx, fy, cx, cy = LAB[cam][0]
        k = np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1.0]])
        w, h = tracks[cam]["size"]
        px = np.array([[p.image[INDEX[m], :2] * (w, h) if p is not None else (np.nan, np.nan)
                        for m in names] for p in tracks[cam]["poses"]])
        rays[cam] = cv2.undistortPoints(px.reshape(-1, 1, 2), k, np.array(LAB[cam][1])
                                        ).reshape(n, len(names), 2)
    pts = np.full((n, len(names), 3), np.nan)
    for t, j in itertools.product(range(n), range(len(names))):
        rows = []
        for cam in CAMS:
            x, y = rays[cam][t, j]
            if np.isfinite(x):
                p = np.hstack([_rotation(cam), np.array(LAB[cam][3])[:, None]])
                rows += [x * p[2] - p[0], y * p[2] - p[1]]
        if len(rows) >= 4:
            v = np.linalg.svd(np.array(rows))[2][-1]
            pts[t, j] = v[:3] / v[3]
    trunk = (pts[:, 0] + pts[:, 1]) / 2 - (pts[:, 2] + pts[:, 3]) / 2
    return np.degrees(np.arccos(trunk[:, 2] / np.linalg.norm(trunk, axis=1)))


def swapped_frames(tracks: dict) -> dict[int, np.ndarray]:
    """Per camera, the frames where MediaPipe took the person's front for their back (left
    and right swapped, so the body's forward points the other way): the camera's forward
    direction in the lab's axes points away (> 90 deg) from the other three cameras' mean.
    The signed 3D columns flip there; trunk_tilt_3d_deg does not."""
    fwd = {}
    for cam, tr in tracks.items():
        f = np.full((len(tr["poses"]), 3), np.nan)
        for i, p in enumerate(tr["poses"]):
            if p is not None:
                left = _rotation(cam).T @ (p.world[INDEX["left_shoulder"]]
                                           - p.world[INDEX["right_shoulder"]])
                f[i] = np.cross(left, (0.0, 0.0, 1.0))
        f[:, 2] = 0.0
        fwd[cam] = f / np.linalg.norm(f, axis=1, keepdims=True)
    return {cam: np.nansum(fwd[cam] * np.nanmean([fwd[o] for o in CAMS if o != cam], axis=0),
                           axis=1) < 0 for cam in CAMS}


def _mad(a: np.ndarray, b: np.ndarray) -> tuple[float, int]:
    ok = np.isfinite(a) & np.isfinite(b)
    return (float(np.mean(np.abs(a[ok] - b[ok]))) if ok.any() else math.nan), int(ok.sum())


def run(tracks: dict, window: tuple[float, float], q: QualitySettings) -> dict:
    tilts: dict[str, dict[int, CameraTilt | None]] = {k: {} for k in TILTS}
    estimator = {}
    for cam, tr in tracks.items():
        cal = UprightCalibration(q)
        for t, pose in zip(tr["t"], tr["poses"], strict=True):
            if window[0] <= t < window[1]:
                cal.add(pose)
        est, why = cal.estimate()
        ref = reference_tilt(cam)
        tilts["none"][cam], tilts["upright"][cam], tilts["reference"][cam] = None, est, ref
        estimator[cam] = {"frames": cal.frames, "failed": why,
                          "reference_pitch_deg": ref.pitch_deg, "reference_roll_deg": ref.roll_deg}
        if est is not None:
            err = math.degrees(math.acos(min(1.0, float(np.dot(est.down, ref.down)))))
            estimator[cam] |= {"pitch_deg": est.pitch_deg, "roll_deg": est.roll_deg,
                               "spread_deg": est.spread_deg, "vertical_error_deg": err}
    values = {k: {cam: measured(tracks[cam], tilts[k][cam], q) for cam in tracks}
              for k in TILTS}
    fill, pairs, unswapped = {}, {}, {}
    swapped = swapped_frames(tracks)
    for c in COLUMNS:
        fill[c] = {}
        for cam, tr in tracks.items():
            v = values["none"][cam][c]
            hard = np.array([x in ("oblique", "back") for x in tr["views"]])
            fill[c][cam] = {"all": float(np.isfinite(v).mean()),
                            "oblique_back": float(np.isfinite(v[hard]).mean()) if hard.any()
                            else math.nan, "oblique_back_frames": int(hard.sum())}
        pairs[c] = {k: {f"{a}-{b}": _mad(values[k][a][c], values[k][b][c])[0]
                        for a, b in itertools.combinations(CAMS, 2)} for k in TILTS}
        unswapped[c] = {k: {f"{a}-{b}": _mad(*(np.where(swapped[a] | swapped[b], np.nan,
                                                        values[k][x][c]) for x in (a, b)))[0]
                            for a, b in itertools.combinations(CAMS, 2)} for k in TILTS}
    truth = triangulated_tilt(tracks)
    vs_truth = {k: {cam: _vs(values[k][cam]["trunk_tilt_3d_deg"], truth) for cam in tracks}
                for k in TILTS}
    return {"window_s": list(window), "estimator": estimator, "fill": fill, "pairs": pairs,
            "pairs_unswapped": unswapped, "vs_triangulation": vs_truth,
            "swapped_frames": {cam: int(s.sum()) for cam, s in swapped.items()},
            "views": {cam: {v: tr["views"].count(v) for v in sorted(set(tr["views"]))}
                      for cam, tr in tracks.items()}}


def _vs(x: np.ndarray, truth: np.ndarray) -> dict:
    ok = np.isfinite(x) & np.isfinite(truth)
    d = x[ok] - truth[ok]
    return {"mae": float(np.mean(np.abs(d))), "bias": float(np.mean(d)),
            "r": float(np.corrcoef(x[ok], truth[ok])[0, 1]), "n": int(ok.sum())}


def report(r: dict) -> str:
    a, b = r["window_s"]
    lines = ["Views per camera: " + "; ".join(
        f"cam0{c}: " + ", ".join(f"{v} {n}" for v, n in vs.items())
        for c, vs in r["views"].items()), ""]
    lines += [f"Camera tilt, upright calibration over {a:g}-{b:g} s vs the lab calibration:",
              "| camera | frames | pitch est / lab | roll est / lab | vertical off by |",
              "|---|---|---|---|---|"]
    for cam, e in r["estimator"].items():
        if e["failed"]:
            lines.append(f"| cam0{cam} | {e['frames']} | failed: {e['failed']} | | |")
            continue
        lines.append(f"| cam0{cam} | {e['frames']} | {e['pitch_deg']:.1f} / "
                     f"{e['reference_pitch_deg']:.1f} | {e['roll_deg']:.1f} / "
                     f"{e['reference_roll_deg']:.1f} | {e['vertical_error_deg']:.1f} deg |")
    lines += ["", "Fill rate per camera, all frames (oblique and back frames alone):",
              "| column | " + " | ".join(f"cam0{c}" for c in CAMS) + " |",
              "|---|" + "---|" * len(CAMS)]
    for c, per in r["fill"].items():
        lines.append(f"| {c} | " + " | ".join(
            f"{100 * f['all']:.0f} % ({100 * f['oblique_back']:.0f} %)" for f in per.values())
            + " |")
    pair_names = list(next(iter(r["pairs"].values()))["none"])
    swaps = ", ".join(f"cam0{c} {n}" for c, n in r["swapped_frames"].items())
    for key, title in (("pairs", "all frames"), ("pairs_unswapped", "without the frames "
                       f"where a camera had left and right swapped ({swaps})")):
        lines += ["", f"Mean absolute difference between cameras, frame by frame, {title} "
                  "(tilt: none / upright calibration / lab calibration):",
                  "| column | " + " | ".join(pair_names) + " | mean |",
                  "|---|" + "---|" * (len(pair_names) + 1)]
        for c, per in r[key].items():
            cells = [" / ".join(f"{per[k][p]:.1f}" for k in TILTS) for p in pair_names]
            means = " / ".join(f"{np.nanmean(list(per[k].values())):.1f}" for k in TILTS)
            lines.append(f"| {c} | " + " | ".join(cells) + f" | {means} |")
    lines += ["", "trunk_tilt_3d_deg vs the 4-camera triangulation (deg; MAE, bias, r):",
              "| camera | " + " | ".join(TILTS) + " |", "|---|" + "---|" * len(TILTS)]
    for cam in CAMS:
        lines.append(f"| cam0{cam} | " + " | ".join(
            "{mae:.1f}, {bias:+.1f}, {r:.2f}".format(**r["vs_triangulation"][k][cam])
            for k in TILTS) + " |")
    return "\n".join(lines)


def _window(text: str) -> tuple[float, float]:
    a, b = (float(x) for x in text.split(":"))
    return a, b


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", nargs="?", type=Path, default=None,
                    help="folder with the four clips (default: tests/.media)")
    ap.add_argument("--calibration", type=_window, default=(0.0, 0.2), metavar="A:B",
                    help="seconds of upright standing for the tilt estimate (default 0:0.2)")
    ap.add_argument("--model", default="full")
    ap.add_argument("--cache", type=Path, help="keep the poses here (a second run reads them)")
    ap.add_argument("--json", action="store_true", help="JSON instead of Markdown")
    args = ap.parse_args(argv)
    if args.cache is not None and args.cache.exists():
        tracks = _load(args.cache)
    else:
        folder = args.folder or default_folder()
        tracks = {cam: track(_clip(folder, cam), args.model) for cam in CAMS}
        if args.cache is not None:
            _save(tracks, args.cache)
    result = run(tracks, args.calibration, QualitySettings())
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
