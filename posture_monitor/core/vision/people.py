"""Identity of each person across frames: MediaPipe returns several people in no stable
order, so each detection is matched to a track by where that track's landmarks were
going (a constant-velocity motion model on every landmark, as SORT does on boxes), so
two people who cross keep their numbers: at the crossing their boxes overlap, but their
predicted landmarks do not.

A track that is not seen for `max_gap_s` ends; a person who comes back later gets a new
number (identity is by motion, never by appearance: no face or body is remembered).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from posture_monitor.core.vision.pose import Pose

# Landmarks used for matching: the body, not the face (faces are tiny and jitter) nor
# the fingers (often guessed). Shoulders, elbows, wrists, hips, knees, ankles, heels.
_BODY = np.array([11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28, 29, 30])


DUPLICATE = 0.1  # mean landmark distance in body heights under which two poses are one
DUPLICATE_IOU = 0.7  # ... or this much overlap of their boxes (arms apart, same body)
# A track seen in fewer than CONFIRM_FRAMES frames (a flicker, or a duplicate MediaPipe
# dropped) ends after TENTATIVE_GAP_S unseen instead of max_gap_s: an old guess must not
# take a person over later (SORT's min_hits).
CONFIRM_FRAMES = 3
TENTATIVE_GAP_S = 0.1
# Cost per second unseen: a person seen in the last frame wins a tie against a track
# that has not been seen for a while (a periodic movement can look like an old pose).
STALE_COST_PER_S = 0.5


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    lo = np.maximum(a.min(axis=0), b.min(axis=0))
    hi = np.minimum(a.max(axis=0), b.max(axis=0))
    inter = float(np.prod(np.clip(hi - lo, 0, None)))
    area = float(np.prod(np.ptp(a, axis=0)) + np.prod(np.ptp(b, axis=0))) - inter
    return inter / area if area > 0 else 0.0


def _apart(a: np.ndarray, b: np.ndarray, aspect: float) -> bool:
    d = np.linalg.norm((a - b) * np.array([aspect, 1.0]), axis=1).mean()
    height = max(float(np.ptp(a[:, 1])), float(np.ptp(b[:, 1])), 0.02)
    return d / height >= DUPLICATE and _iou(a, b) < DUPLICATE_IOU


@dataclass(frozen=True)
class Person:
    """One person in one frame: their number and their (unsmoothed) landmarks."""

    id: int
    pose: Pose
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 of the body, 0..1 of the frame

    @property
    def size(self) -> float:
        """Box area as a share of the frame: how much of the person is in view."""
        x0, y0, x1, y1 = self.box
        return max(0.0, min(x1, 1.0) - max(x0, 0.0)) * max(0.0, min(y1, 1.0) - max(y0, 0.0))


def body_box(pose: Pose) -> tuple[float, float, float, float]:
    pts = pose.image[_BODY, :2]
    return (float(pts[:, 0].min()), float(pts[:, 1].min()),
            float(pts[:, 0].max()), float(pts[:, 1].max()))


@dataclass
class _Track:
    id: int
    points: np.ndarray  # (len(_BODY), 2) last seen, frame units
    velocity: np.ndarray = field(default_factory=lambda: np.zeros((len(_BODY), 2)))
    last_t: float = 0.0
    hits: int = 1

    def predicted(self, t: float) -> np.ndarray:
        return self.points + self.velocity * (t - self.last_t)

    def scale(self) -> float:
        span = self.points.max(axis=0) - self.points.min(axis=0)
        return max(float(span.max()), 0.02)


class PeopleTracker:
    """Gives each detected person a number that stays with them from frame to frame."""

    def __init__(self, max_gap_s: float = 1.0, max_cost: float = 0.6,
                 aspect: float = 1.0) -> None:
        # aspect: frame width / height, so distances are the same in x and y (pixels)
        self.max_gap_s, self.max_cost, self.aspect = max_gap_s, max_cost, aspect
        self._tracks: list[_Track] = []
        self._next_id = 1
        self._last_t: float | None = None

    def _cost(self, track: _Track, pts: np.ndarray, t: float) -> float:
        """Mean landmark distance from where the track should be, in body heights."""
        d = (track.predicted(t) - pts) * np.array([self.aspect, 1.0])
        return (float(np.linalg.norm(d, axis=1).mean()) / track.scale()
                + STALE_COST_PER_S * (t - track.last_t))

    def distinct(self, poses: list[Pose]) -> list[Pose]:
        """One pose per person: asked for several people, MediaPipe sometimes returns the
        same person twice, with slightly different landmarks. Of two poses whose body
        landmarks lie within DUPLICATE body heights of each other on average, the one it
        sees better is kept (two people are never that close all over)."""
        order = sorted(poses, key=lambda p: -float(p.visibility[_BODY].sum()))
        kept: list[Pose] = []
        for pose in order:
            pts = pose.image[_BODY, :2]
            if all(_apart(pts, k.image[_BODY, :2], self.aspect) for k in kept):
                kept.append(pose)
        return [p for p in poses if any(p is k for k in kept)]

    def update(self, poses: list[Pose], t: float) -> list[Person]:
        # a tentative track may miss no analysed frame: at a low analysis rate (the
        # window's desk mode, 2-10 frames a second) that is longer than TENTATIVE_GAP_S
        step = t - self._last_t if self._last_t is not None else 0.0
        tentative = max(TENTATIVE_GAP_S, 1.5 * step)
        self._last_t = t
        self._tracks = [tr for tr in self._tracks if t - tr.last_t <= (
            self.max_gap_s if tr.hits >= CONFIRM_FRAMES else tentative)]
        poses = self.distinct(poses)
        points = [pose.image[_BODY, :2].copy() for pose in poses]
        pairs = self._assign(points, t)
        people: list[Person] = []
        for i, pose in enumerate(poses):
            tr = pairs.get(i)
            if tr is None:
                tr = _Track(self._next_id, points[i], last_t=t)
                self._next_id += 1
                self._tracks.append(tr)
            else:
                dt = t - tr.last_t
                if dt > 1e-6:
                    # velocity smoothed over a few frames: one jittery frame does not
                    # throw the prediction off
                    v = (points[i] - tr.points) / dt
                    tr.velocity = 0.5 * tr.velocity + 0.5 * v
                tr.points, tr.last_t = points[i], t
                tr.hits += 1
            people.append(Person(tr.id, pose, body_box(pose)))
        return sorted(people, key=lambda p: p.id)

    def _assign(self, points: list[np.ndarray], t: float) -> dict[int, _Track]:
        """Detections to tracks: the most matches, then the least total cost (every
        assignment tried for up to 4 people, else greedily), none above max_cost."""
        if not self._tracks or not points:
            return {}
        cost = np.array([[self._cost(tr, p, t) for tr in self._tracks] for p in points])
        n_det, n_tr = cost.shape
        best: dict[int, _Track] = {}
        if n_det <= 4 and n_tr <= 4:
            best_key = None
            for choice in set(itertools.permutations([*range(n_tr), *[None] * n_det], n_det)):
                ok = [(d, tr) for d, tr in enumerate(choice)
                      if tr is not None and cost[d, tr] <= self.max_cost]
                key = (-len(ok), sum(cost[d, tr] for d, tr in ok))
                if best_key is None or key < best_key:
                    best_key, best = key, {d: self._tracks[tr] for d, tr in ok}
            return best
        taken: set[int] = set()
        for d, tr in sorted(itertools.product(range(n_det), range(n_tr)),
                            key=lambda dt: cost[dt]):
            if d in best or tr in taken or cost[d, tr] > self.max_cost:
                continue
            best[d] = self._tracks[tr]
            taken.add(tr)
        return best
