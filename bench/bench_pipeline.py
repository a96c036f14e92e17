"""Benchmark: our `analyze` pipeline vs a bare MediaPipe loop on the same video and model.

    python bench/bench_pipeline.py VIDEO [--model lite|full] [--repeats 3]

(a) bare loop: OpenCV read -> RGB -> PoseLandmarker.detect_for_video, nothing else;
(b) analyze:   the function `posture-monitor analyze` runs (decode thread, pose, smoothing,
               metrics, CSV + JSON writing).
Runs alternate (a, b, a, b, ...) so both see the same machine state; the median run of
each is reported, with their ratio and (b)'s per-stage milliseconds per frame.
A benchmark, not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2  # noqa: E402

from posture_monitor.core.vision.mediapipe_import import import_mediapipe  # noqa: E402

mp, BaseOptions, vision = import_mediapipe()

from posture_monitor.core.capture.sources import open_source  # noqa: E402
from posture_monitor.core.common.native_log import quiet_native_stderr  # noqa: E402
from posture_monitor.core.common.settings import AnalysisSettings  # noqa: E402
from posture_monitor.core.run.analysis import analyze_source  # noqa: E402
from posture_monitor.core.vision.model_files import resolve_pose_model  # noqa: E402


def bare_loop(video: Path, model_path: Path) -> tuple[float, int]:
    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(model_path)),
        running_mode=vision.RunningMode.VIDEO, num_poses=1)
    with quiet_native_stderr():
        landmarker = vision.PoseLandmarker.create_from_options(options)
    cap = cv2.VideoCapture(str(video))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    n = 0
    t0 = time.perf_counter()
    with landmarker, quiet_native_stderr():
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            image = mp.Image(image_format=mp.ImageFormat.SRGB,
                             data=cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            landmarker.detect_for_video(image, int(n * 1000 / fps))
            n += 1
    elapsed = time.perf_counter() - t0
    cap.release()
    return n / elapsed, n


def our_pipeline(video: Path, model_name: str, out_dir: Path, exercise: str | None = None,
                 angles: bool = False):
    from posture_monitor.core.common.settings import ExerciseSettings

    settings = AnalysisSettings(model=model_name, angles=angles,
                                exercise=ExerciseSettings(name=exercise))
    model = resolve_pose_model(model_name)
    with open_source(video) as source:
        report = analyze_source(source, out_dir, "bench", settings, model,
                                overwrite=True)  # the repeats reuse one folder
    return report.frames / report.wall_s, report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", type=Path)
    parser.add_argument("--model", default="full", choices=["lite", "full"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--exercise", default=None, help="also count this exercise "
                        "(movement analysis: joint angles, repetitions, reps CSV)")
    parser.add_argument("--angles", action="store_true", help="also write the angle columns")
    args = parser.parse_args()
    model = resolve_pose_model(args.model)
    bare, ours, reports = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        extra = (args.exercise, args.angles)
        our_pipeline(args.video, args.model, Path(tmp), *extra)  # warm caches (file, model)
        for _ in range(args.repeats):
            fps, frames = bare_loop(args.video, model.path)
            bare.append(fps)
            fps, report = our_pipeline(args.video, args.model, Path(tmp), *extra)
            ours.append(fps)
            reports.append(report)
    b, o = statistics.median(bare), statistics.median(ours)
    rep = reports[ours.index(o)] if o in ours else reports[-1]
    what = (f", exercise {args.exercise}" if args.exercise else "") + (
        ", angle columns" if args.angles else "")
    print(f"video: {args.video.name} ({frames} frames), model: {args.model}, "
          f"repeats: {args.repeats}{what}")
    print(f"bare MediaPipe loop : {b:6.1f} frames/s   (runs: "
          f"{', '.join(f'{x:.1f}' for x in bare)})")
    print(f"posture-monitor     : {o:6.1f} frames/s   (runs: "
          f"{', '.join(f'{x:.1f}' for x in ours)})")
    print(f"ratio analyze/bare  : {o / b:.2f}")
    per = {k: v / rep.frames for k, v in rep.stage_ms.items() if k != "dropped_frames"}
    print("analyze stages, ms per frame: " + ", ".join(f"{k} {v:.2f}" for k, v in per.items())
          + "  (decode runs on its own thread, overlapping pose)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
