"""Desk-day bookkeeping without Qt: today's share of time in good posture, and break
reminders that reset only after a real break away from the camera."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass
class PostureTally:
    """Seconds present today, and how many of them were in good posture (state ok)."""

    day: date | None = None
    present_s: float = 0.0
    good_s: float = 0.0
    _last_t: float | None = None

    def update(self, t: float, state: str, today: date | None = None) -> None:
        today = today or date.today()
        if today != self.day:  # a new day starts a new tally, from this moment on
            self.day, self.present_s, self.good_s, self._last_t = today, 0.0, 0.0, t
            return
        if self._last_t is not None and 0 < t - self._last_t < 5.0 and state != "away":
            dt = t - self._last_t
            self.present_s += dt
            self.good_s += dt if state == "ok" else 0.0
        self._last_t = t

    @property
    def good_share(self) -> float | None:
        return self.good_s / self.present_s if self.present_s > 0 else None

    def summary(self) -> str:
        if self.good_share is None:
            return "Good posture today: no time measured yet"
        minutes = int(self.present_s // 60)
        return (f"Good posture today: {100 * self.good_share:.0f} % of "
                f"{minutes // 60} h {minutes % 60:02d} min")


@dataclass
class BreakTimer:
    """Sitting time since the last real break; a break counts only when the person was
    away (no one in view) for at least `min_break_s` (a glance away is no break)."""

    sit_limit_s: float = 50 * 60.0
    min_break_s: float = 5 * 60.0
    _sitting_since: float | None = None
    _away_since: float | None = None
    _reminded: bool = False

    def update(self, t: float, present: bool) -> bool:
        """True once when a break is due."""
        if not present:
            if self._away_since is None:
                self._away_since = t
            if t - self._away_since >= self.min_break_s:
                self._sitting_since, self._reminded = None, False
            return False
        self._away_since = None
        if self._sitting_since is None:
            self._sitting_since = t
        if not self._reminded and t - self._sitting_since >= self.sit_limit_s:
            self._reminded = True
            return True
        return False
