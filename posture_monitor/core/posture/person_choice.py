"""Whom to measure when several people are in view (`--person`, the window's click):

* `auto`: with a calibrated baseline, the person nearest where the calibrated person
  was (a colleague walking behind the patient is not measured); without one, the person
  measured so far while they stay in view, else the one most in view;
* `largest`: the one most in view in each frame (the box area, `Person.size`);
* a number: that person (as `--all-people` or the sidecar's `people` list names them);
  frames without them measure nobody.
"""

from __future__ import annotations

from posture_monitor.core.measure.person import person_position
from posture_monitor.core.vision.people import Person

RULES = ("auto", "largest")


def parse_rule(text: str | int) -> str | int:
    """'auto', 'largest' or a person number; ValueError with the fix otherwise."""
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    elif isinstance(text, str) and text.strip() in RULES:
        return text.strip()
    elif isinstance(text, str) and text.strip().isdigit():
        value = int(text.strip())
    else:
        raise ValueError(f"--person must be auto, largest or a person number (from "
                         f"--all-people or the sidecar's people list), not {text!r}")
    if value < 1:
        raise ValueError("--person numbers start at 1")
    return value


class PersonChooser:
    def __init__(self, rule: str | int = "auto") -> None:
        self.rule = parse_rule(rule)
        self.current: int | None = None

    def choose(self, people: list[Person], near: tuple[float, float] | None = None
               ) -> Person | None:
        """`near`: where the calibrated person was (normalized mid-shoulder), if any."""
        if not people:
            return None
        if isinstance(self.rule, int):
            return next((p for p in people if p.id == self.rule), None)
        if self.rule == "largest":
            return max(people, key=lambda p: p.size)
        if near is not None:
            chosen = min(people, key=lambda p: _distance(person_position(p.pose), near))
        else:
            chosen = next((p for p in people if p.id == self.current), None)
            chosen = chosen or max(people, key=lambda p: p.size)
        self.current = chosen.id
        return chosen


def _distance(a: tuple[float, float], b: tuple[float, float]) -> float:
    return ((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5
