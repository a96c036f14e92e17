"""People keep their numbers across frames (core/vision/people.py): MediaPipe returns
them in no stable order, and two people who cross must not swap identities."""

from __future__ import annotations

import numpy as np

from posture_monitor.core.posture.person_choice import PersonChooser
from posture_monitor.core.vision.people import PeopleTracker
from posture_monitor.core.vision.pose import Pose


def _person(x: float, y: float = 0.5, h: float = 0.4, lean: float = 0.0) -> Pose:
    """A standing figure centred at x (frame units), height h."""
    image = np.zeros((33, 3))
    image[:, 0] = x
    image[:, 1] = y
    rows = {11: (-0.05, -0.35), 12: (0.05, -0.35), 13: (-0.07, -0.2), 14: (0.07, -0.2),
            15: (-0.08, -0.05), 16: (0.08, -0.05), 23: (-0.03, 0.0), 24: (0.03, 0.0),
            25: (-0.03, 0.25), 26: (0.03, 0.25), 27: (-0.03, 0.48), 28: (0.03, 0.48),
            29: (-0.04, 0.5), 30: (0.04, 0.5)}
    for i, (dx, dy) in rows.items():
        image[i, 0] = x + dx * h / 0.4 + lean * dy
        image[i, 1] = y + dy * h / 0.4 - 0.1
    return Pose(image, np.zeros((33, 3)), np.ones(33), np.ones(33))


def test_two_people_crossing_keep_their_numbers_whatever_the_order():
    """Two identical figures walk towards each other; while they overlap only the one in
    front is found (as MediaPipe does), then both again: only their motion tells them
    apart, and each keeps their number."""
    tracker = PeopleTracker(aspect=16 / 9)
    rng = np.random.default_rng(0)
    ids_at_start = None
    hidden_frames = 0
    for k in range(60):
        t = k / 30
        a = _person(0.2 + 0.01 * k)  # walks right, in front
        b = _person(0.8 - 0.01 * k)  # walks left: the same figure, only motion tells
        if abs(0.6 - 0.02 * k) < 0.05:  # overlapping: b is hidden behind a
            found = [a]
            hidden_frames += 1
        else:
            found = [a, b] if rng.random() < 0.5 else [b, a]
        people = tracker.update(found, t)
        going_right = next(p.id for p in people if p.pose is a)
        if len(found) == 1:
            assert going_right == ids_at_start[0], f"front person renumbered at frame {k}"
            continue
        going_left = next(p.id for p in people if p.pose is b)
        if ids_at_start is None:
            ids_at_start = (going_right, going_left)
        assert (going_right, going_left) == ids_at_start, f"swapped at frame {k}"
    assert hidden_frames >= 3


def test_the_same_person_found_twice_is_one_person():
    """Asked for several people, MediaPipe may return one person twice with slightly
    different landmarks (arms apart in one): one number, not two."""
    tracker = PeopleTracker()
    one, twice = _person(0.4), _person(0.4, lean=0.05)
    twice.visibility[:] = 0.8
    people = tracker.update([twice, one], 0.0)
    assert len(people) == 1 and people[0].pose is one  # the better seen one is kept
    assert len(tracker.update([_person(0.41), _person(0.7)], 0.033)) == 2


def test_someone_new_gets_a_new_number_and_a_gap_ends_a_track():
    tracker = PeopleTracker(max_gap_s=0.5)
    first = tracker.update([_person(0.3)], 0.0)[0].id
    assert tracker.update([_person(0.31)], 0.033)[0].id == first
    two = tracker.update([_person(0.32), _person(0.8)], 0.066)
    assert sorted(p.id for p in two)[0] == first and len({p.id for p in two}) == 2
    # gone for longer than the gap: the same place later is a new track
    assert tracker.update([_person(0.33)], 1.0)[0].id not in {p.id for p in two}


def test_the_measured_person_is_kept_while_in_view_then_the_one_most_in_view():
    tracker, chooser = PeopleTracker(), PersonChooser()
    small, big = _person(0.2, h=0.2), _person(0.7, h=0.5)
    people = tracker.update([small], 0.0)
    assert chooser.choose(people).id == people[0].id
    kept = people[0].id
    people = tracker.update([big, _person(0.2, h=0.2)], 0.033)
    assert chooser.choose(people).id == kept  # a bigger newcomer does not take over
    people = tracker.update([_person(0.7, h=0.5)], 0.066)
    assert chooser.choose(people).id != kept  # the first one left: the one in view


def test_auto_with_a_baseline_measures_the_person_nearest_the_calibrated_place():
    """A colleague who walks in front of the camera, bigger than the patient, is not
    measured once there is a baseline: the patient sits where the calibration saw them."""
    tracker, chooser = PeopleTracker(), PersonChooser("auto")
    patient, colleague = _person(0.3, h=0.3), _person(0.7, h=0.6)
    people = tracker.update([colleague, patient], 0.0)
    near = (0.3, float(patient.image[11, 1]))  # the calibrated mid-shoulder
    chosen = chooser.choose(people, near)
    assert chosen.pose is patient
    # without a baseline the one most in view is chosen
    assert PersonChooser("auto").choose(people).pose is colleague
    # largest: the bigger one in each frame; a number: only that person
    assert PersonChooser("largest").choose(people, near).pose is colleague
    pid = next(p.id for p in people if p.pose is patient)
    assert PersonChooser(pid).choose(people).pose is patient
    assert PersonChooser(99).choose(people) is None
