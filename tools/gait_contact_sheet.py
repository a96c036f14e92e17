"""A contact sheet for counting steps by eye: every Nth frame of a video, cropped around
the feet of the lowest person in the frame (found by MediaPipe), frame number and time
printed on each tile.

    .venv/bin/python tools/gait_contact_sheet.py VIDEO OUT.png [--every 2] [--from F] [--to F]

Used to count the Sports2D walker's steps for tests/test_gait_real.py."""

from __future__ import annotations

import argparse

import cv2
import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("video")
    ap.add_argument("out")
    ap.add_argument("--every", type=int, default=2)
    ap.add_argument("--from", dest="first", type=int, default=0)
    ap.add_argument("--to", dest="last", type=int, default=10**9)
    ap.add_argument("--crop", type=int, default=300, help="tile width in pixels")
    args = ap.parse_args()

    from posture_monitor.core.vision.model_files import resolve_pose_model
    from posture_monitor.core.vision.people import PeopleTracker
    from posture_monitor.core.vision.pose import PoseEstimator

    cap = cv2.VideoCapture(args.video)
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    tiles, i = [], 0
    tracker = PeopleTracker()
    with PoseEstimator(resolve_pose_model("full"), max_people=2) as est:
        while True:
            ok, frame = cap.read()
            if not ok or i > args.last:
                break
            h, w = frame.shape[:2]
            tracker.aspect = w / h
            people = tracker.update(est.estimate_all(frame, i / fps), i / fps)
            if i >= args.first and (i - args.first) % args.every == 0 and people:
                # the lowest person in the frame: the walker on the ground
                p = max(people, key=lambda p: p.box[3])
                cx = int(np.mean(p.pose.image[[23, 24], 0]) * w)
                y1 = int(min(h, p.box[3] * h + 30))
                y0 = max(0, y1 - int(args.crop * 0.85))
                x0 = max(0, min(w - args.crop, cx - args.crop // 2))
                tile = frame[y0:y1, x0:x0 + args.crop].copy()
                cv2.putText(tile, f"{i} {i / fps:.2f}s", (5, 22), cv2.FONT_HERSHEY_SIMPLEX,
                            0.7, (0, 0, 255), 2)
                tiles.append(cv2.resize(tile, (240, 204)))
            i += 1
    if not tiles:
        raise SystemExit("no person found in those frames")
    while len(tiles) % 8:
        tiles.append(np.zeros_like(tiles[0]))
    rows = [np.hstack(tiles[r:r + 8]) for r in range(0, len(tiles), 8)]
    cv2.imwrite(args.out, np.vstack(rows))
    print(f"wrote {args.out}: {len(tiles)} tiles")


if __name__ == "__main__":
    main()
