"""Fetch the real test videos from pinned PyPI wheels and check them by sha256.

The videos are too large to commit, but their BSD-licensed originals ship inside the
`sports2d` and `pose2sim` wheels on PyPI. `pip download` is the one network access the
project's machines have, so tests obtain them that way and never read ../shared.
Idempotent: files already present with the right hash are kept.
"""

from __future__ import annotations

import hashlib
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


if __name__ == "__main__":
    fetch()
    seated_sequence()
    print(f"test media ready in {MEDIA_DIR}")
