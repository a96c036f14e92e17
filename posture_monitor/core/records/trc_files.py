"""OpenSim marker files (`.trc`): the writer `analyze --opensim` uses, and a reader.

The layout is the one Sports2D (`make_trc_with_trc_data`) and Pose2Sim (`make_trc`)
write, tab separated, which OpenSim's TRCFileAdapter reads:

    PathFileType  4  (X/Y/Z)  <file name>
    DataRate  CameraRate  NumFrames  NumMarkers  Units  OrigDataRate  OrigDataStartFrame
        OrigNumFrames                                          (one line)
    <rate>  <rate>  <rows>  <markers>  m  <rate>  <first frame>  <rows>
    Frame#  Time  <marker 1>  .  .  <marker 2>  .  .  ...      (three cells per marker)
    .  .  X1  Y1  Z1  X2  Y2  Z2 ...
    <frame>  <time>  x1  y1  z1  x2 ...                        (one row per frame)

Frame# is the source's own 0-based frame index (as Sports2D and Pose2Sim number them, and
as the CSV's `frame` column), Time its stream time in seconds. The first line names the
file only, never its folder (a path can carry a user's or patient's name).

A marker with no position in a frame is `nan` in its three cells, as OpenSim's own
TRCFileAdapter writes a NaN and as it reads one back. Not blank cells (what Sports2D's
pandas writer leaves): OpenSim's tokenizer drops a trailing empty cell, so a row whose
last marker is blank has too few cells and the file is refused.

Written whole or not at all (temporary file, then rename), readable by the user only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from posture_monitor.core.common.private_files import write_private_text
from posture_monitor.core.records.outputs import output_error

TRC_SUFFIX = ".trc"
HEADER_KEYS = ("DataRate", "CameraRate", "NumFrames", "NumMarkers", "Units", "OrigDataRate",
               "OrigDataStartFrame", "OrigNumFrames")


def _rate(rate: float) -> str:
    # Sports2D and Pose2Sim write a whole rate as an integer ("60"); keep the decimals of
    # an NTSC rate (29.97) rather than round it to another rate
    return str(int(rate)) if float(rate).is_integer() else f"{rate:.6g}"


def _cell(v: float) -> str:
    return "nan" if not math.isfinite(v) else f"{v:.6f}"


def trc_text(file_name: str, rate: float, frames: Sequence[int], times: Sequence[float],
             markers: Sequence[str], coords: np.ndarray, units: str = "m") -> str:
    """The file's text; `coords` is (rows, markers, 3), NaN where a marker is missing."""
    coords = np.asarray(coords, dtype=np.float64).reshape(len(frames), len(markers), 3)
    n, m = len(frames), len(markers)
    first = frames[0] if n else 0
    lines = [
        f"PathFileType\t4\t(X/Y/Z)\t{file_name}",
        "\t".join(HEADER_KEYS),
        "\t".join([_rate(rate), _rate(rate), str(n), str(m), units, _rate(rate), str(first),
                   str(n)]),
        "Frame#\tTime\t" + "\t\t\t".join(markers) + "\t\t\t",
        "\t\t" + "\t".join(f"X{i}\tY{i}\tZ{i}" for i in range(1, m + 1)),
    ]
    for frame, t, row in zip(frames, times, coords, strict=True):
        lines.append("\t".join([str(frame), f"{t:.6f}", *(_cell(v) for v in row.ravel())]))
    return "\n".join(lines) + "\n"


def write_trc(path: Path, rate: float, frames: Sequence[int], times: Sequence[float],
              markers: Sequence[str], coords: np.ndarray) -> Path:
    text = trc_text(Path(path).name, rate, frames, times, markers, coords)
    try:
        write_private_text(path, text, newline="")
    except OSError as exc:
        raise output_error(exc, path, "write the results elsewhere") from None
    return path


@dataclass
class TrcTable:
    header: dict[str, str]  # the second and third lines, key -> value
    markers: list[str]
    frames: list[int]
    times: list[float]
    coords: np.ndarray  # (rows, markers, 3), NaN where missing

    def marker(self, name: str) -> np.ndarray:
        return self.coords[:, self.markers.index(name), :]


def read_trc(path: Path) -> TrcTable:
    """A .trc file read with the checks OpenSim's TRCFileAdapter makes (the header keys
    in order, NumMarkers against the names, the X1 Y1 Z1 labels, every row's length);
    ValueError naming the first one that fails. Blank lines before the data are skipped,
    as OpenSim does; a blank cell is read as NaN, like `nan`."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    if len(lines) < 5 or lines[0].split("\t")[:2] != ["PathFileType", "4"]:
        raise ValueError("not a TRC file: the first line is not 'PathFileType<TAB>4...'")
    keys = [c for c in lines[1].split("\t") if c]
    values = [c for c in lines[2].split("\t") if c]
    if tuple(keys) != HEADER_KEYS or len(values) != len(keys):
        raise ValueError(f"header keys {keys} / values {values} are not OpenSim's")
    header = dict(zip(keys, values, strict=True))
    labels = [c for c in lines[3].split("\t") if c]
    if labels[:2] != ["Frame#", "Time"]:
        raise ValueError(f"the marker line starts {labels[:2]}, not Frame# and Time")
    markers = labels[2:]
    if len(markers) != int(header["NumMarkers"]):
        raise ValueError(f"{len(markers)} marker names but NumMarkers {header['NumMarkers']}")
    xyz = [c for c in lines[4].split("\t") if c]
    if xyz != [f"{a}{i}" for i in range(1, len(markers) + 1) for a in "XYZ"]:
        raise ValueError("the second label line is not X1 Y1 Z1 X2 ... for every marker")
    frames, times, rows = [], [], []
    for number, line in enumerate(lines[5:], start=6):
        if not line.strip() and not rows:
            continue
        cells = line.split("\t")
        if len(cells) != 2 + 3 * len(markers):
            raise ValueError(f"line {number} has {len(cells)} cells, not "
                             f"{2 + 3 * len(markers)}")
        frames.append(int(cells[0]))
        times.append(float(cells[1]))
        rows.append([float(c) if c else math.nan for c in cells[2:]])
    coords = np.array(rows, dtype=np.float64).reshape(len(rows), len(markers), 3)
    return TrcTable(header, markers, frames, times, coords)
