"""Fetch the real test videos from pinned PyPI wheels and check them by sha256.

The videos are too large to commit, but their BSD-licensed originals ship inside the
`sports2d` and `pose2sim` wheels on PyPI. `pip download` is the one network access the
project's machines have, so tests obtain them that way and never read ../shared.
Idempotent: files already present with the right hash are kept.
"""

from __future__ import annotations

import hashlib
import math
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

MEDIA_DIR = Path(__file__).resolve().parent.parent / "tests" / ".media"

# wheel requirement -> {member in wheel: (file name here, sha256)}
WHEELS: dict[str, dict[str, tuple[str, str]]] = {
    "sports2d==0.8.34": {
        "Sports2D/Demo/demo.mp4": (
            "sports2d_demo.mp4",
            "d9a66417185647b112304b57093f0c180f37a768e6a14daca75ca541f3b78039",
        ),
        "sports2d-0.8.34.dist-info/licenses/LICENSE": ("LICENSE.sports2d.txt", ""),
    },
    "pose2sim==0.10.49": {
        f"Pose2Sim/Demo_SinglePerson/videos/cam0{i}.mp4": (f"pose2sim_cam0{i}.mp4", sha)
        for i, sha in (
            (1, "cf4f2816c86bea4bfbea255333d8626ff32a3ecabdab8b0fb147cea9167fde3a"),
            (2, "94ff87cf978b8406e8aa36ab3c5362e72848994e87652f0dc7a33c315e8e0442"),
            (3, "b8b329f832f178f27ecb78d024d5026b96c6adb36c387bfe2c0af85eab8a11ca"),
            (4, "b5c0e7863fd70d008e7178d3c556b045b0ea5f78fcd61ca548a0b2e807e641f7"),
        )
    }
    | {"pose2sim-0.10.49.dist-info/licenses/LICENSE": ("LICENSE.pose2sim.txt", "")},
}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _complete(members: dict[str, tuple[str, str]]) -> bool:
    for name, sha in members.values():
        path = MEDIA_DIR / name
        if not path.exists() or (sha and _sha256(path) != sha):
            return False
    return True


def fetch() -> Path:
    MEDIA_DIR.mkdir(parents=True, exist_ok=True)
    for requirement, members in WHEELS.items():
        if _complete(members):
            continue
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                 "--only-binary=:all:", "-d", tmp, requirement],
                check=True,
            )
            (wheel,) = Path(tmp).glob("*.whl")
            with zipfile.ZipFile(wheel) as zf:
                for member, (name, sha) in members.items():
                    target = MEDIA_DIR / name
                    target.write_bytes(zf.read(member))
                    if sha and _sha256(target) != sha:
                        target.unlink()
                        raise SystemExit(f"{member} from {requirement}: sha256 mismatch")
    return MEDIA_DIR


SEATED = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "seated_side_mit"
# (photo, seconds): upright, slouched, upright again; the same person, side and framing.
SEATED_SEQUENCE = (("straight_hf.jpg", 20), ("hunchback_hf.jpg", 30), ("straight_hf.jpg", 20))
SEATED_FPS = 10


def seated_sequence() -> Path:
    """A real-person clip built from the committed MIT photos: upright 20 s -> slouched
    30 s -> upright 20 s at 10 fps, half size. Still photos, honestly labelled as such:
    no licensed real video of a posture change exists here."""
    import cv2

    target = MEDIA_DIR / "seated_sequence.mp4"
    if target.exists():
        return target
    MEDIA_DIR.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp.mp4")
    writer = None
    for name, seconds in SEATED_SEQUENCE:
        image = cv2.imread(str(SEATED / name))
        image = cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2))
        if writer is None:
            h, w = image.shape[:2]
            writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), SEATED_FPS,
                                     (w, h))
        for _ in range(seconds * SEATED_FPS):
            writer.write(image)
    writer.release()
    tmp.replace(target)
    return target


DESK = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "desk_webcam_bsd2"
# output name -> (real clip, frames used: 0..n-1, all before the calibration board appears)
DESK_VARIANTS = {
    "desk_forward_head.mp4": ("front_cam2.mp4", 63),  # eye level; board enters at frame 65
    "desk_forward_head_low.mp4": ("front_low_cam0.mp4", 60),  # laptop-low; board at 61
}
DESK_PHASES_S = (20.0, 30.0, 20.0)  # upright, forward head, upright
# CONSTRUCTED STAND-IN for a real forward head posture, honestly labelled: no licensed real
# front-facing recording of a person poking the head forward exists here, so the real
# upright frames are warped. From the front a head poked forward (chin forward and down)
# looks lower and bigger and the face tips down, so a smooth displacement field ("liquify"
# warp, cv2.remap; no cut and paste) moves the head down, magnifies it and moves the face
# down inside the head outline; it is full over the head and fades smoothly to zero at
# the shoulder line and beside the head: torso, arms, shoulders and room are untouched.
# Tuned so that MediaPipe's fwd_head_ratio falls by most of what a real forward head gives
# (0.49 -> 0.26 on the recording in issue 10): here about 0.50 -> 0.32.
FH_DROP = 0.20  # the head moves down by this fraction of the shoulder width (pixels)
FH_MAGNIFY = 1.15  # and grows by this factor about the ear midpoint
FH_CHIN_DOWN = 0.06  # the face (brow to nose) moves down a further x shoulder width
# The laptop-low camera has the crown cut off by the top edge: moving the head down would
# have to invent it, so there the head is magnified about the top edge instead (which
# lowers the face too) and is not moved down; a camera below the face also sees a head
# coming closer move up rather than down. A larger chin-down makes up for part of it.
FH_DROP_LOW = 0.0
FH_CHIN_DOWN_LOW = 0.10
FH_TRANSITION_S = 1.5  # cosine ramps that START at 20.0 s (full at 21.5 s) and at 50.0 s
FH_TRACK_SIGMA = 1.5  # Gaussian smoothing of the warp centre over source frames (frames)
# Shape of the warp, in ear-to-ear distances from the ear midpoint: full within HALF to the
# sides and from TOP above down to LOW below, fading to 0 over SIDE_FADE beside the head,
# TOP_FADE above it and from LOW down to the shoulder line (LOW_SKEW > 1 puts most of the
# squeeze on the neck, not the mouth). The sideways part of the magnification fades out
# sooner (MAG_FADE), so door frames beside the head stay straight. The chin-down bump is
# flat over the face (FLAT), gone at SIDE, from BUMP_UP above the nose to BUMP_DOWN below.
FH_HALF, FH_SIDE_FADE, FH_TOP, FH_TOP_FADE, FH_LOW, FH_LOW_SKEW = 0.65, 1.0, 1.0, 1.0, 0.5, 2.0
FH_MAG_FADE = 0.4
FH_NOSE, FH_BUMP_UP, FH_BUMP_DOWN, FH_BUMP_SIDE, FH_BUMP_FLAT = 0.18, 1.3, 0.9, 0.75, 0.45
# output name -> (drop, magnification centre: None = ear midpoint, else this image row,
# chin down)
FH_VARIANT = {"desk_forward_head.mp4": (FH_DROP, None, FH_CHIN_DOWN),
              "desk_forward_head_low.mp4": (FH_DROP_LOW, 0.0, FH_CHIN_DOWN_LOW)}


def _pingpong(i: int, n: int) -> int:
    """Frame index i of 0, 1, ..., n-1, n-2, ..., 1, 0, 1, ...: no jump anywhere."""
    k = i % (2 * (n - 1))
    return k if k < n else 2 * (n - 1) - k


def _forward_head_strength(t: float) -> float:
    """0 upright, 1 full forward head; ramps start at the phase boundaries."""
    on, off = DESK_PHASES_S[0], DESK_PHASES_S[0] + DESK_PHASES_S[1]
    if t < on or t >= off + FH_TRANSITION_S:
        return 0.0
    u = min((t - on) / FH_TRANSITION_S, 1.0) if t < off else 1.0 - (t - off) / FH_TRANSITION_S
    return 0.5 - 0.5 * math.cos(math.pi * u)


def _smootherstep(edge0, edge1, x):
    import numpy as np

    u = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return u * u * u * (u * (u * 6.0 - 15.0) + 10.0)


def _head_tracks(frames: list, fps: float) -> dict:
    """Head and shoulders found by MediaPipe (full, VIDEO mode) on the original frames:
    per frame the ear midpoint, nose x and shoulder-midpoint height, smoothed over time so
    the warp does not jitter (mirrored at both ends, as the clip is played ping-pong); ear
    distance and shoulder width (pixels) as medians over the clip."""
    import numpy as np

    from posture_monitor.core.vision.landmarks import INDEX
    from posture_monitor.core.vision.model_files import resolve_pose_model
    from posture_monitor.core.vision.pose import PoseEstimator

    h, w = frames[0].shape[:2]
    names = ("left_ear", "right_ear", "left_shoulder", "right_shoulder", "nose")
    pts = np.full((len(frames), len(names), 2), np.nan)
    with PoseEstimator(resolve_pose_model("full"), video_mode=True) as estimator:
        for i, frame in enumerate(frames):
            pose = estimator.estimate(frame, i / fps)
            if pose is not None:
                pts[i] = [pose.image[INDEX[n], :2] * (w, h) for n in names]
    found = ~np.isnan(pts[:, 0, 0])
    if found.sum() < len(frames) // 2:
        raise SystemExit(f"MediaPipe found the person in only {found.sum()} frames")
    idx = np.arange(len(frames))
    for j in range(len(names)):
        for k in range(2):
            pts[:, j, k] = np.interp(idx, idx[found], pts[found, j, k])
    ear_mid = pts[:, :2].mean(axis=1)
    shoulder_y = pts[:, 2:4, 1].mean(axis=1)
    r = int(math.ceil(3 * FH_TRACK_SIGMA))
    kernel = np.exp(-0.5 * (np.arange(-r, r + 1) / FH_TRACK_SIGMA) ** 2)
    kernel /= kernel.sum()

    def smooth(x):
        return np.convolve(np.pad(x, r, mode="reflect"), kernel, mode="valid")

    return {
        "cx": smooth(ear_mid[:, 0]), "cy": smooth(ear_mid[:, 1]), "sy": smooth(shoulder_y),
        "nx": smooth(pts[:, 4, 0]),
        "ear": float(np.median(np.linalg.norm(pts[:, 0] - pts[:, 1], axis=1))),
        "shoulder": float(np.median(np.linalg.norm(pts[:, 2] - pts[:, 3], axis=1))),
    }


def _forward_head_maps(shape, cx: float, cy: float, sy: float, nx: float, ear: float,
                       shoulder: float, strength: float, drop_frac: float,
                       anchor_y: float | None, chin_down: float):
    """cv2.remap maps for one frame. Output pixel p samples p + w(p) * (T^-1(p) - p), with
    T = magnify by M about (cx, anchor_y) (default the ear midpoint), then move down by
    drop_frac x shoulder width, then move the face down inside the head outline (chin
    down). w = 1 over the head, fading smoothly (smootherstep) to 0 above the head, beside
    it and at the shoulder line; strength 0..1 scales drop, magnification and chin down."""
    import numpy as np

    h, w = shape[:2]
    ay = cy if anchor_y is None else anchor_y
    drop_full = drop_frac * shoulder
    drop = strength * drop_full
    mag = 1.0 + strength * (FH_MAGNIFY - 1.0)
    x = np.arange(w, dtype=np.float32)[None, :]
    y = np.arange(h, dtype=np.float32)[:, None]
    # where the warp acts: fixed in time (full-strength sizes), around the original head
    half = FH_HALF * ear * FH_MAGNIFY  # the head's half-width (ears about +-0.5 ear)
    wx = 1.0 - _smootherstep(half, half + FH_SIDE_FADE * ear, np.abs(x - cx))
    wx_mag = 1.0 - _smootherstep(half, half + FH_MAG_FADE * ear, np.abs(x - cx))
    top = cy - FH_TOP * ear * FH_MAGNIFY  # above the top of the head
    fade_top = max(FH_TOP_FADE * ear, 2.5 * drop_full)  # > 1.875 drop: the map never folds
    low = min(cy + FH_LOW * ear, sy - 0.5 * ear)  # from here down to the shoulder line
    below = np.clip((y - low) / (sy - low), 0.0, 1.0) ** FH_LOW_SKEW
    wy = _smootherstep(top - fade_top, top, y) * (1.0 - _smootherstep(0.0, 1.0, below))
    # chin down: the face moves down inside the head outline, most from brow to nose, less
    # at the chin, not at the ears and crown (a smooth flat-topped bump on the face)
    e = ear * mag
    nose_y = ay + mag * (cy + FH_NOSE * ear - ay) + drop
    bump_x = cx + mag * (nx - cx)  # centred on the nose: the face may be turned a little
    brow = nose_y - 0.35 * e
    bump_top = min(max(nose_y - FH_BUMP_UP * e, 0.0), brow - 1.0)  # 0 at the frame's top
    bump = ((1.0 - _smootherstep(FH_BUMP_FLAT * e, FH_BUMP_SIDE * e, np.abs(x - bump_x)))
            * _smootherstep(bump_top, brow, y)
            * (1.0 - _smootherstep(nose_y, nose_y + FH_BUMP_DOWN * e, y)))
    src_x = cx + (x - cx) / mag
    src_y = ay + (y - strength * chin_down * shoulder * bump - ay - drop) / mag
    map_x = x + wx_mag * wy * (src_x - x)
    map_y = y + wx * wy * (src_y - y)
    # never sample above the frame (a crown cut by the top edge): stretch the top rows a
    # little instead, smooth and monotone (v -> m * exp(v / m - 1) below m)
    m = 0.15 * ear
    map_y = np.where(map_y < m, m * np.exp(np.minimum(map_y, m) / m - 1.0), map_y)
    return map_x.astype(np.float32), map_y.astype(np.float32)


def desk_forward_head_sequence(low: bool = False) -> Path:
    """A front-facing desk-webcam clip of a real person: upright 20 s -> forward head 30 s
    -> upright 20 s at the clip's own 6 fps, 1280x720 (`low`: the laptop-low camera).

    Real pixels: the BSD-2 frames 0-10.5 s (0-10.0 s low; before the calibration board),
    played forwards then backwards throughout so nothing jumps. The forward head is a
    CONSTRUCTED stand-in (see the FH_* constants): those same frames with the head moved
    down by FH_DROP x shoulder width (low: not moved down), magnified FH_MAGNIFY times and
    the face tipped down by a smooth warp. Frames before 20.0 s and from 51.5 s on are the
    unwarped real frames; the warp ramps in over 20.0-21.5 s (cosine), is full from 21.5 s
    to 50.0 s and ramps out over 50.0-51.5 s. Written to a temporary name, then renamed;
    kept when present (delete it after changing a constant)."""
    import cv2

    name = "desk_forward_head_low.mp4" if low else "desk_forward_head.mp4"
    target = MEDIA_DIR / name
    if target.exists():
        return target
    clip, used = DESK_VARIANTS[name]
    cap = cv2.VideoCapture(str(DESK / clip))
    fps = cap.get(cv2.CAP_PROP_FPS)
    frames = []
    while len(frames) < used:
        ok, frame = cap.read()
        if not ok:
            raise SystemExit(f"{clip}: only {len(frames)} frames")
        frames.append(frame)
    cap.release()
    track = _head_tracks(frames, fps)
    MEDIA_DIR.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp.mp4")
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for i in range(int(round(sum(DESK_PHASES_S) * fps))):
        j = _pingpong(i, used)
        frame = frames[j]
        strength = _forward_head_strength(i / fps)
        if strength > 0.0:
            map_x, map_y = _forward_head_maps(
                frame.shape, track["cx"][j], track["cy"][j], track["sy"][j], track["nx"][j],
                track["ear"], track["shoulder"], strength, *FH_VARIANT[name])
            frame = cv2.remap(frame, map_x, map_y, cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
        writer.write(frame)
    writer.release()
    tmp.replace(target)
    return target


if __name__ == "__main__":
    fetch()
    seated_sequence()
    desk_forward_head_sequence()
    desk_forward_head_sequence(low=True)
    print(f"test media ready in {MEDIA_DIR}")
