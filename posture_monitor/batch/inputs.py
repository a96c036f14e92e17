"""What a batch analyses: video files, folders searched for videos, and CSV manifests that
name videos with options of their own (a study's participant list).

Every input becomes one `Job`: the absolute path of the video (or of a folder of photos,
analysed as one input the way `analyze FOLDER` does) and the per-video options from its
manifest row. A mistake is one line that names the file, row and fix (UserError)."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path

from posture_monitor.core.capture.sources import IMAGE_SUFFIXES, VIDEO_SUFFIXES
from posture_monitor.core.common.errors import UserError

# The columns a manifest row may set for its own video (the batch options otherwise);
# `input` (or `video`, `path`) names the video, relative to the manifest's folder.
INPUT_COLUMNS = ("input", "video", "path")
OPTION_COLUMNS = ("patient", "exercise", "side", "joints", "target", "gait", "height_cm",
                  "baseline_from", "camera_tilt_from", "person")
MAX_MANIFEST_BYTES = 64 << 20  # a participant list is kilobytes


@dataclass(frozen=True)
class Job:
    input: Path  # absolute: the same video reached from another folder is the same input
    options: dict[str, str] = field(default_factory=dict)  # from a manifest row
    origin: str = ""  # where it was named, for messages: "study.csv row 4"
    # the result name it asks for: the file's stem, or for a video found in a folder its
    # path below that folder ("p01/front.mp4" -> "p01_front"), so participants' videos of
    # the same name stay apart and recognisable
    name: str = ""


def _videos_in(folder: Path) -> list[Path]:
    """Every video below `folder` (sorted, hidden folders skipped), and each folder that
    holds photos but no video as one input of its own (a photo series)."""
    def visible(p: Path) -> bool:
        return not any(part.startswith(".") for part in p.relative_to(folder).parts)

    below = [p for p in sorted(folder.rglob("*")) if visible(p)]
    found = [p for p in below if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES]
    for sub in [folder, *(p for p in below if p.is_dir())]:
        files = [p for p in sub.iterdir() if p.is_file()]
        has_video = any(p.suffix.lower() in VIDEO_SUFFIXES for p in files)
        if not has_video and any(p.suffix.lower() in IMAGE_SUFFIXES for p in files):
            found.append(sub)
    return sorted(found)


def _absolute(path: Path) -> Path:
    """Absolute and without `..`, but links kept: a study's folder of links to videos
    stored elsewhere names each input by its link."""
    return Path(os.path.abspath(path))


def _name_below(found: Path, folder: Path) -> str:
    if found == folder:
        return _absolute(folder).name
    rel = found.relative_to(folder)
    return "_".join((rel.with_suffix("") if found.is_file() else rel).parts)


def _truthy(value: str, where: str) -> bool:
    v = value.strip().lower()
    if v in ("", "0", "no", "false", "n"):
        return False
    if v in ("1", "yes", "true", "y"):
        return True
    raise UserError(f"{where}: gait must be yes or no, not {value!r}")


def read_manifest(path: Path) -> list[Job]:
    """A study's CSV: one row per video, an `input` column and any of OPTION_COLUMNS."""
    try:
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise UserError(f"{path} is larger than a list of videos can be: give the "
                            "study's CSV of videos (input, patient, exercise, ...)")
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
            columns = list(rows[0].keys()) if rows else []
    except UnicodeDecodeError:
        raise UserError(f"{path} is not a text CSV: save the list of videos as CSV "
                        "(UTF-8)") from None
    except (OSError, csv.Error) as exc:
        raise UserError(f"cannot read the list of videos {path} ({exc}): check the file") \
            from None
    if not rows:
        raise UserError(f"{path} lists no videos: give one row per video with an 'input' "
                        "column")
    names = [c for c in columns if c is not None]
    key = next((c for c in INPUT_COLUMNS if c in names), None)
    if key is None:
        raise UserError(f"{path} has no 'input' column: name the column of video paths "
                        "'input'")
    unknown = [c for c in names if c not in (key, *OPTION_COLUMNS)]
    if unknown:
        raise UserError(f"{path}: unknown column {unknown[0]!r}: a row may set "
                        f"{', '.join(OPTION_COLUMNS)}")
    jobs = []
    for n, row in enumerate(rows, start=2):  # row 1 is the header
        where = f"{path.name} row {n}"
        if None in row:
            raise UserError(f"{where} has more cells than the header: check its commas")
        spec = (row.get(key) or "").strip()
        if not spec:
            raise UserError(f"{where}: the {key} cell is empty: give the video's path")
        video = Path(spec).expanduser()
        video = _absolute(video if video.is_absolute() else path.parent / video)
        if not video.exists():
            raise UserError(f"{where}: {video} does not exist: correct the path (relative "
                            "paths start at the CSV's folder)")
        options = {c: (row.get(c) or "").strip() for c in OPTION_COLUMNS
                   if (row.get(c) or "").strip()}
        if "gait" in options:
            options["gait"] = "yes" if _truthy(options["gait"], where) else ""
            if not options["gait"]:
                del options["gait"]
        jobs.append(Job(video, options, where))
    return jobs


def expand_inputs(specs: list[str], own_manifest: Path | None = None) -> list[Job]:
    """Files, folders and CSV manifests into jobs, in the order given; the same video
    named twice is analysed once (the first mention's options win)."""
    jobs: list[Job] = []
    for spec in specs:
        path = Path(spec).expanduser()
        if not path.exists():
            raise UserError(f"{spec} does not exist: give video files, folders of videos "
                            "or a CSV list of videos")
        if path.is_dir():
            found = _videos_in(path)
            if not found:
                raise UserError(f"{spec} holds no videos ({', '.join(sorted(VIDEO_SUFFIXES))})"
                                " or photos: give another folder")
            jobs += [Job(_absolute(p), {}, spec, _name_below(p, path)) for p in found]
        elif path.suffix.lower() == ".csv":
            if own_manifest is not None and path.resolve() == own_manifest.resolve():
                raise UserError(f"{spec} is this batch's own manifest (what was done), not a "
                                "list of videos: give the study's CSV of videos")
            jobs += read_manifest(path)
        elif path.suffix.lower() in VIDEO_SUFFIXES | IMAGE_SUFFIXES:
            jobs.append(Job(_absolute(path), {}, spec))
        else:
            raise UserError(f"{spec} is not a video ({', '.join(sorted(VIDEO_SUFFIXES))}), "
                            "a photo, a folder or a CSV list of videos")
    seen: set[Path] = set()
    unique = []
    for job in jobs:
        if job.input not in seen:
            seen.add(job.input)
            unique.append(job)
    return unique
