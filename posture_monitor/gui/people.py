"""Several people in the window: everyone the engine tracks is drawn, the measured person
highlighted with their number, the others faint with theirs. A click on a person measures
them (the engine keeps the choice while they stay in view, and goes back to the automatic
choice once they have left for longer than its tracker keeps them: the banner says so).
Session > Measure automatically, or a right click on the video, returns to automatic.

The engine decides whom it measures (`LiveEngine.choose_person`, applied on its analysis
thread, which starts the newly measured person's smoothing and alerts afresh); this only
turns a click into a person's number and tells what the engine did.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from posture_monitor.core.run.analysis_worker import PersonChoice
from posture_monitor.core.vision.people import Person

CHOSEN_SHOWN_MS = 6000  # "Measuring person 3" is news, not a state: it goes again
# A click counts for a person within their body box widened by this share of its width
# and raised by this share of its height (the box runs from the shoulders down: the head
# is above it).
CLICK_MARGIN = 0.15
CLICK_HEAD = 0.35


def person_at(people: tuple[Person, ...] | list[Person], x: float, y: float
              ) -> Person | None:
    """The person a click at (x, y) of the frame (0..1, not mirrored) points at: the
    smallest box holding it (someone in front of a larger person), else nobody."""
    hits = []
    for p in people:
        x0, y0, x1, y1 = p.box
        w, h = x1 - x0, y1 - y0
        mx = max(CLICK_MARGIN * w, 0.02)
        if x0 - mx <= x <= x1 + mx and y0 - max(CLICK_HEAD * h, 0.05) <= y <= y1 + 0.02:
            hits.append((w * h, p))
    return min(hits, key=lambda a: a[0])[1] if hits else None


class PeopleController:
    def __init__(self, window) -> None:
        self.window = window
        self.rule: str | int = "auto"  # what the user asked (the engine applies it)
        self.auto_action = QAction("Measure automatically", window)
        self.auto_action.setToolTip("Measure the person most in view (or the calibrated "
                                    "person); click a person in the video to measure them")
        self.auto_action.triggered.connect(lambda: self.choose("auto"))
        window.video.clicked.connect(self._clicked)
        window.events.subscribe(PersonChoice, self._choice)

    def fill_menu(self, menu) -> None:
        menu.addAction(self.auto_action)

    # --- the window's engine comes and goes ----------------------------------------
    def engine_opened(self) -> None:
        """Numbers belong to one engine's tracker: a new source starts automatic."""
        self.rule = "auto"
        self.window.hide_banner("person")

    # --- user actions --------------------------------------------------------------
    def choose(self, rule: str | int) -> None:
        """Measure person `rule` (a number) or 'auto' from the next analysed frame on."""
        engine = self.window.engine
        if engine is None:
            return
        engine.choose_person(rule)
        self.rule = rule
        if isinstance(rule, int):
            self.window.show_banner("ok", f"Measuring person {rule} while they are in "
                                    "view (right-click the video: Measure automatically).",
                                    tag="person")
            QTimer.singleShot(CHOSEN_SHOWN_MS, self.window,
                              lambda: self.window.hide_banner("person"))
        else:
            self.window.hide_banner("person")

    def _clicked(self, u: float, v: float, button, global_pos) -> None:
        item = self.window.last_item
        if item is None:
            return
        x = 1.0 - u if self.window.mirror_action.isChecked() else u  # the picture is flipped
        if button == Qt.MouseButton.RightButton:
            self._context_menu(item.result.people, global_pos)
            return
        if button != Qt.MouseButton.LeftButton:
            return
        person = person_at(item.result.people, x, v)
        if person is not None:
            self.choose(person.id)

    def _context_menu(self, people, global_pos) -> None:
        menu = QMenu(self.window)
        menu.addAction(self.auto_action)
        for p in people:
            menu.addAction(f"Measure person {p.id}", lambda i=p.id: self.choose(i))
        self.menu = menu  # kept: tests look at it
        menu.popup(global_pos)

    # --- what the engine did -------------------------------------------------------
    def _choice(self, event: PersonChoice) -> None:
        if event.gone is None:
            return
        self.rule = "auto"
        self.window.show_banner("warn", f"Person {event.gone} left the view: measuring "
                                "automatically again (the person most in view).",
                                tag="person")

    # --- frames on screen ----------------------------------------------------------
    @staticmethod
    def others(result, drawn: int | None) -> tuple:
        """Everyone in view but the person `drawn` in full: (number, landmarks)."""
        return tuple((p.id, p.pose) for p in result.people if p.id != drawn)

    def measured(self, result, drawn: int | None) -> int | None:
        """The number of the person drawn in full, when there is anyone to tell them
        from."""
        if drawn is None or (len(result.people) < 2 and self.rule == "auto"):
            return None
        return drawn

    def describe(self, result) -> str:
        """Who is measured, for the side panel."""
        n = len(result.people)
        in_view = f"{n} {'person' if n == 1 else 'people'} in view"
        rule = self.rule
        if isinstance(rule, int) and result.person_id is None:
            return f"no. {rule} (your choice): not in view · {in_view}"
        if result.person_id is None:
            return "nobody in view"
        how = "your choice" if rule == result.person_id else "automatic"
        hint = " · click a person to measure them" if n > 1 and how == "automatic" else ""
        return f"no. {result.person_id} ({how}) · {in_view}{hint}"
