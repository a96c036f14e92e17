"""Repetitions from one signal (a joint angle, or the hips' height), robust to dips.

A naive rule (count a repetition each time the angle crosses a fixed value) breaks one
repetition in two when the angle dips back across it, and counts a half movement as a
full one. Here a repetition is a movement *away from rest and back*:

* **rest** is the median of the signal over the last `rest_window_s` while the person is
  still (its spread within the exit band), learned again after every repetition; until
  then the preset's typical reading at rest (`nominal_rest`, where one exists), so
  repetitions done without a pause (jumping jacks) still count. A movement already under
  way when the signal is first seen at all (its start was never seen at rest) is
  reported incomplete ('start_not_seen'), never as a repetition;
* a movement **starts** when the excursion from rest passes `enter_frac` x target, and
  its start time is taken back to the last moment it was within `onset_frac` x target of
  rest; it **ends** once the excursion is back under `exit_frac` x target for `settle_s`
  (so a one-frame tracking glitch does not end it), at the first moment it is within
  `onset_frac` of rest again (or where it crossed the exit band, if it settles short of
  rest, or starts the next repetition, within `close_s`). Between the start and exit
  thresholds nothing happens: a dip inside a repetition that does not return to rest
  does not split it (hysteresis);
* a movement shorter than `min_duration_s` is discarded (a label swap or a twitch, not
  an attempt); one that did not reach `target` is reported **incomplete**, as is one the
  input ended in or that lost tracking for more than `max_gap_s`.

The same online counter runs in the window (frame by frame) and in `analyze` (the whole
file), so both count alike. It knows only times and values; the tracker keeps the
frames and computes each repetition's statistics.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class RepRule:
    direction: int  # +1: the signal rises away from rest; -1: it falls; 0: either way
    target: float  # excursion from rest of a complete repetition (signal units)
    nominal_rest: float | None = None  # typical reading at rest, before one is learned
    enter_frac: float = 0.4
    exit_frac: float = 0.2
    onset_frac: float = 0.05
    min_duration_s: float = 0.4
    settle_s: float = 0.1
    close_s: float = 0.5
    rest_window_s: float = 1.0
    max_gap_s: float = 1.0

    @property
    def enter(self) -> float:
        return self.enter_frac * self.target

    @property
    def exit(self) -> float:
        return self.exit_frac * self.target

    @property
    def onset(self) -> float:
        return self.onset_frac * self.target


@dataclass
class Movement:
    """One repetition, complete or not, in the counter's terms (times in seconds)."""

    index: int  # 1-based, counting every reported movement
    start_s: float
    peak_s: float
    end_s: float
    rest: float
    peak_value: float
    excursion: float  # signed by the rule's direction: how far from rest it went
    complete: bool
    # why incomplete: short_of_target | did_not_return | tracking_lost | start_not_seen
    reason: str = ""


class RepCounter:
    """Feed `update(t, value)` in time order (value None: no reading in that frame); it
    returns the movements that finished at that sample. `finish(t)` at the end of the
    input reports a movement still under way as incomplete."""

    def __init__(self, rule: RepRule) -> None:
        if rule.target <= 0 or not (0 < rule.onset_frac <= rule.exit_frac < rule.enter_frac
                                    <= 1):
            raise ValueError("a repetition rule needs target > 0 and "
                             "0 < onset <= exit < enter <= 1")
        self.rule = rule
        self.rest: float | None = None
        self.state = "rest"  # rest | moving | settling
        self.discarded = 0  # movements too short to be an attempt
        self._still: deque[tuple[float, float]] = deque()
        self._onset: tuple[float, float] | None = None  # last sample in the exit band
        self._peak: tuple[float, float, float] | None = None  # (t, value, excursion)
        self._start_s = 0.0
        self._settle_from: float | None = None  # first sample back in the exit band
        self._last_t: float | None = None  # last sample with a value
        self._count = 0
        self._seen_at_rest = False
        self._unseen_start = False

    @property
    def current_rest(self) -> float | None:
        return self.rest if self.rest is not None else self.rule.nominal_rest

    def excursion(self, value: float) -> float | None:
        """How far `value` is from rest in the rule's direction (None before rest)."""
        rest = self.current_rest
        if rest is None:
            return None
        d = value - rest
        return abs(d) if self.rule.direction == 0 else self.rule.direction * d

    def update(self, t: float, value: float | None) -> list[Movement]:
        rule = self.rule
        if value is None:
            if (self.state != "rest" and self._last_t is not None
                    and t - self._last_t > rule.max_gap_s):
                return self._end(self._last_t, "tracking_lost")
            return []
        done: list[Movement] = []
        if (self.state != "rest" and self._last_t is not None
                and t - self._last_t > rule.max_gap_s):
            done = self._end(self._last_t, "tracking_lost")
        self._last_t = t
        if self.state == "settling":
            e = self.excursion(value)
            back = t - self._settle_from
            if e >= rule.exit and back < rule.settle_s:
                self.state, self._settle_from = "moving", None  # a glitch: still moving
            elif e >= rule.exit:  # the next repetition begins: this one ended at the band
                done += self._end(self._settle_from, "")
            elif e < rule.onset:  # back at rest
                done += self._end(t, "")
                self._onset = (t, value)
                return done
            elif back >= rule.close_s:  # settles a little short of rest
                done += self._end(self._settle_from, "")
                return done
            else:
                return done
        if self.state == "moving":
            e = self.excursion(value)
            if e > self._peak[2]:
                self._peak = (t, value, e)
            if e < rule.exit:
                self.state, self._settle_from = "settling", t
            return done
        self._learn_rest(t, value)
        e = self.excursion(value)
        if e is None:
            return done
        if e < rule.onset:
            self._onset, self._seen_at_rest = (t, value), True
        if e >= rule.enter:
            self.state = "moving"
            self._unseen_start = not self._seen_at_rest
            self._start_s = t if self._unseen_start else self._onset[0]
            self._peak = (t, value, e)
        return done

    @property
    def start_s(self) -> float:
        """Where the movement under way began (meaningful while not at rest)."""
        return self._start_s

    def finish(self, t: float | None = None) -> list[Movement]:
        """The input ended: a movement on its way back counts as ended where it came
        back; one still out is incomplete ('did_not_return')."""
        if self.state == "settling":
            return self._end(self._settle_from, "")
        if self.state == "moving":
            return self._end(self._last_t if t is None else t, "did_not_return")
        return []

    def _learn_rest(self, t: float, value: float) -> None:
        rule = self.rule
        self._still.append((t, value))
        while self._still and t - self._still[0][0] > rule.rest_window_s:
            self._still.popleft()
        if t - self._still[0][0] < 0.8 * rule.rest_window_s:
            return
        values = [v for _, v in self._still]
        if max(values) - min(values) <= rule.exit:
            self.rest = statistics.median(values)

    def _end(self, end_s: float, reason: str) -> list[Movement]:
        rule = self.rule
        peak_t, peak_v, peak_e = self._peak
        self.state, self._settle_from, self._peak = "rest", None, None
        self._still.clear()
        # it came back to rest: the next repetition may follow at once
        self._seen_at_rest = reason == ""
        if end_s - self._start_s < rule.min_duration_s:
            self.discarded += 1
            return []
        if reason == "" and self._unseen_start:
            reason = "start_not_seen"
        complete = reason == "" and peak_e >= rule.target
        if reason == "" and not complete:
            reason = "short_of_target"
        self._count += 1
        return [Movement(self._count, self._start_s, peak_t, end_s, self.current_rest,
                         peak_v, peak_e, complete, reason)]
