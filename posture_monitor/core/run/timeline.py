"""Which frame to show, and with which skeleton, so the skeleton matches the picture.

Analysis on a 2-core machine runs slower than a 30 fps camera, yet the picture should
move at the camera's rate. Drawing the newest skeleton on the newest frame would put a
skeleton computed 50-100 ms earlier on a picture it was not computed on. Instead the
display runs a little behind: it shows each captured frame once its successor has been
analysed, with the landmarks interpolated between the two analysed frames around it
(exact on analysed frames). The delay follows the measured analysis latency and stays
bounded: frames older than `HISTORY_S` are dropped.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

import numpy as np

from posture_monitor.core.capture.sources import Frame
from posture_monitor.core.posture.pipeline import FrameResult
from posture_monitor.core.vision.pose import Pose

HISTORY_S = 2.0
# After a stall the display catches up frame by frame, unless it fell this many frames
# behind: then it jumps to the newest due frame (latency stays bounded).
MAX_BACKLOG = 3
_EMA = 0.1  # weight of a new latency/interval sample in the display delay


@dataclass
class Captured:
    frame: Frame
    t_capture: float  # monotonic seconds when the frame was read


@dataclass
class DisplayItem:
    frame: Frame
    t_capture: float
    pose: Pose | None  # for this very frame: analysed or interpolated
    result: FrameResult  # the analysed frame at or just before this one (metrics, labels)
    exact: bool  # True when this frame itself was analysed


def _interpolate(a: Pose, b: Pose, w: float) -> Pose:
    return Pose(a.image + (b.image - a.image) * w, a.world + (b.world - a.world) * w,
                np.minimum(a.visibility, b.visibility), np.minimum(a.presence, b.presence))


class DisplayTimeline:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frames: deque[Captured] = deque()
        self._results: deque[tuple[float, FrameResult]] = deque()
        self._delay_s = 0.1
        self._last_result_t: float | None = None
        self._interval_s = 0.05

    def add_frame(self, captured: Captured) -> None:
        with self._lock:
            self._frames.append(captured)
            self._trim(captured.t_capture)

    def add_result(self, t_capture: float, result: FrameResult, t_ready: float) -> None:
        with self._lock:
            self._results.append((t_capture, result))
            latency = t_ready - t_capture
            if self._last_result_t is not None and t_capture > self._last_result_t:
                self._interval_s += _EMA * (t_capture - self._last_result_t - self._interval_s)
            self._last_result_t = t_capture
            # Show a frame once the next analysed frame is likely to be ready.
            target = latency + self._interval_s
            self._delay_s += _EMA * (target - self._delay_s)

    def clear(self) -> None:
        with self._lock:
            self._frames.clear()
            self._results.clear()
            self._last_result_t = None

    def _trim(self, now: float) -> None:
        while self._frames and now - self._frames[0].t_capture > HISTORY_S:
            self._frames.popleft()
        while len(self._results) > 1 and now - self._results[0][0] > HISTORY_S:
            self._results.popleft()

    def pick(self, now: float, after_t: float | None = None) -> DisplayItem | None:
        """The frame to show at monotonic time `now`, or None before the first result.

        With `after_t` (the capture time of the frame on screen) frames come in order: the
        first due frame after it, so a short stall of the GUI skips nothing."""
        with self._lock:
            if not self._results or not self._frames:
                return None
            newest_result_t = self._results[-1][0]
            target = min(now - self._delay_s, newest_result_t)
            due = [c for c in self._frames if c.t_capture <= target
                   and (after_t is None or c.t_capture > after_t)]
            if due:
                chosen = due[0] if after_t is not None and len(due) <= MAX_BACKLOG else due[-1]
            elif after_t is not None:
                return None  # nothing new is due yet
            else:  # everything captured is newer than the target
                chosen = self._frames[0]
            before = after = None
            for t, r in self._results:
                if t <= chosen.t_capture:
                    before = (t, r)
                elif after is None:
                    after = (t, r)
                    break
            if before is None:
                before = after
            t0, r0 = before  # type: ignore[misc]
            exact = r0.frame.index == chosen.frame.index and t0 == chosen.t_capture
            pose = r0.pose
            if not exact and after is not None and r0.pose is not None and \
                    after[1].pose is not None and after[0] > t0:
                w = (chosen.t_capture - t0) / (after[0] - t0)
                pose = _interpolate(r0.pose, after[1].pose, min(max(w, 0.0), 1.0))
            return DisplayItem(chosen.frame, chosen.t_capture, pose, r0, exact)
