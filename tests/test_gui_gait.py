"""The window's gait mode: the engine's gait mode on a real clip, the gait panel and
timeline fed with GaitUpdated events (offscreen), and the real window on a real X server
(Xvfb, xcb) playing the real side-view walk in gait mode to its end."""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import pytest

from posture_monitor.core.movement.gait import analyse_gait, choose_walker
from posture_monitor.core.run import events as ev
from tests.conftest import ROOT
from tests.synthetic_walk import walk
from tests.test_xcb import (  # noqa: F401 - xvfb: a fixture
    _screenshot,
    _xcb_env,
    close_window,
    keep_screenshot,
    real_window,
    xvfb,
)


def _update(track, t: float | None) -> ev.GaitUpdated:
    """What the engine's GaitSink publishes for this one person (numbered 3)."""
    walker, seen = choose_walker({3: track})
    result = analyse_gait(track)
    person = {"analysed": walker, "people_seen": seen, "rule": "hips travel furthest"}
    return ev.GaitUpdated(t, result, {"person": person, **result.summary})


def test_gait_panel_and_timeline_show_the_updates_they_are_given(make_window):
    w = make_window()  # no camera here: no engine, the events come from this bus
    bus = ev.EventBus()
    w.events.attach(bus)
    assert w.gait.action.shortcut().toString() == "Ctrl+Shift+G"
    menus = [a.text() for a in w.menuBar().actions()]
    assert "&Gait" in menus
    assert not w.gait.start()  # no source yet: it starts once one opens
    assert w.banner_tag == "gait"
    assert w.gait.dock.isVisible() and w.gait.timeline.isVisible()
    assert not w.plots.isVisible() and not w.side_scroll.isVisible()
    panel, timeline = w.gait.panel, w.gait.timeline
    assert panel.headline.text() == "No steps yet"

    track, truth = walk(seconds=6.0, noise_px=1.0)
    update = _update(track, 5.0)
    bus.publish(update)
    w.events.dispatch()
    s = update.summary
    assert s["steps"] > 4
    cadence = f"{s['cadence_steps_per_min']:.0f} steps/min"
    assert panel.cell("Cadence") == cadence and cadence in panel.headline.text()
    assert panel.cell("Steps (heel strikes)") == str(s["steps"])
    assert panel.cell("Step time (s)", 1).startswith(f"{s['step_time_s']['left']['mean']:.2f} ± ")
    ratio = s["symmetry"]["step_time_s"]["ratio_pct"]
    assert panel.cell("Step time (s)", 3).startswith(f"{ratio:.0f} % (")
    assert panel.cell("Person analysed").startswith("no. 3 of 1 seen")
    assert panel.cell("Seconds analysed").endswith("right to left")
    assert "up to 5.0 s" in panel.status.text()
    events = update.result.events
    for kind in ("heel_strike", "toe_off"):
        for foot in ("left", "right"):
            n = sum(1 for e in events if e.kind == kind and e.foot == foot)
            assert n > 0 and timeline.marker_count(kind, foot) == n
    for joint in ("knee_flex", "hip_flex"):
        for foot in ("left", "right"):
            strides = update.result.curves[joint][foot]
            assert len(strides) > 0 and panel.stride_count(joint, foot) == len(strides)
            assert (joint, foot) in panel.mean_lines  # the mean, thick, over them
    assert "min(L, R) / max(L, R)" in panel.notes.text()  # which symmetry: named

    # nobody walks: nothing measured, and why, in words; the markers go
    still, _ = walk(seconds=4.0)
    still.px[:] = still.px[0] + np.random.default_rng(1).normal(0, 1.0, still.px[0].shape)
    final = _update(still, None)
    assert final.summary["withheld"].startswith("not_walking")
    bus.publish(final)
    w.events.dispatch()
    assert panel.status.text().startswith("Nothing measured (not walking): no steady walking")
    assert panel.headline.text() == "0 steps" and panel.cell("Cadence") == "-"
    assert timeline.marker_count("heel_strike") == 0
    assert panel.stride_count("knee_flex", "left") == 0
    assert w.gait.summary is final.summary
    w.gait.panel_action.setChecked(False)  # the posture panel and plots come back
    assert not w.gait.dock.isVisible() and w.plots.isVisible()


@pytest.mark.slow
def test_engine_gait_mode_looks_for_two_people_skips_no_frame_and_ends_with_the_walk(
        sports2d_video, tmp_path):
    from posture_monitor.core.capture.sources import open_source
    from posture_monitor.core.common.settings import AnalysisSettings, GaitSettings
    from posture_monitor.core.run.live import LiveEngine

    engine = LiveEngine(lambda: open_source(str(sports2d_video)),
                        AnalysisSettings(model="lite", classifier="none"))
    engine.start()
    try:
        engine.start_gait(GaitSettings())
        assert engine.gait.enabled and engine.analysis.alerts_paused
        assert engine.capture.lossless  # a file: every frame is analysed
        engine.start_recording(tmp_path, "walk")  # records the walk too
        got: list = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not any(
                isinstance(e, ev.GaitUpdated) and e.t is None for e in got):
            got += engine.bus.pending()
            time.sleep(0.1)
        assert engine.analysis.pipeline.people_sought == 2
        updates = [e for e in got if isinstance(e, ev.GaitUpdated)]
        final = updates[-1]
        assert final.t is None and len(updates) >= 5  # about every second of the clip
        assert [u.t for u in updates[:-1]] == sorted(u.t for u in updates[:-1])
        assert not any(isinstance(e, ev.AlertStarted) for e in got)
        assert engine.capture.dropped == 0
        assert final.summary["steps"] >= 4 and final.summary["cadence_steps_per_min"] > 60
        engine.stop_recording()
        rows = (tmp_path / "walk_gait.csv").read_text().splitlines()
        assert rows[0].startswith("pass,direction,foot,heel_strike_s") and len(rows) > 4
        assert (tmp_path / "walk_gait_cycles.csv").exists()
        meta = json.loads((tmp_path / "walk.json").read_text())
        assert meta["gait"]["steps"] >= 4 and meta["gait"]["files"]["steps_csv"]
        engine.seek(0)  # the walk is analysed anew from the start
        deadline = time.monotonic() + 60
        again: list = []
        while time.monotonic() < deadline and not any(
                isinstance(e, ev.GaitUpdated) and e.t is not None for e in again):
            again += engine.bus.pending()
            time.sleep(0.1)
        first = next(e for e in again if isinstance(e, ev.GaitUpdated))
        assert first.t is not None and first.t < 3.0
        summary = engine.stop_gait()
        assert summary is not None and engine.gait is None
        assert not engine.capture.lossless and not engine.analysis.alerts_paused
        assert engine.analysis.people_sought == 1
        last = [e for e in engine.bus.pending() if isinstance(e, ev.GaitUpdated)]
        assert last and last[-1].t is None
    finally:
        assert engine.stop()


# Runs the real window as `posture-monitor gui --source CLIP --gait` does (run_gui), on
# xcb; at the final GaitUpdated it writes what the gait panel and timeline show, for the
# test to compare with the event, then waits to be closed like any window (SIGTERM).
DRIVER = r"""
import json, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from posture_monitor.core.run import events as ev
from posture_monitor.gui.main import run_gui
from posture_monitor.gui.main_window import MainWindow

clip, out = sys.argv[1], sys.argv[2]
app = QApplication(sys.argv[:1])
assert app.platformName() == "xcb", app.platformName()


def report(w, event):
    p, tl = w.gait.panel, w.gait.timeline
    r = event.result
    state = {
        "summary_steps": event.summary["steps"],
        "cadence": event.summary["cadence_steps_per_min"],
        "headline": p.headline.text(), "status": p.status.text(),
        "cells": {p.table.item(i, 0).text(): [p.table.item(i, c).text() if
                  p.table.item(i, c) else "" for c in range(1, 4)]
                  for i in range(p.table.rowCount())},
        "events": {f"{k}:{f}": sum(1 for e in r.events if e.kind == k and e.foot == f)
                   for k in ("heel_strike", "toe_off") for f in ("left", "right")},
        "markers": {f"{k}:{f}": tl.marker_count(k, f)
                    for k in ("heel_strike", "toe_off") for f in ("left", "right")},
        "curves": {f"{j}:{f}": len(r.curves[j][f]) for j in ("knee_flex", "hip_flex")
                   for f in ("left", "right")},
        "drawn": {f"{j}:{f}": p.stride_count(j, f) for j in ("knee_flex", "hip_flex")
                  for f in ("left", "right")},
        "means": sorted(f"{j}:{f}" for j, f in p.mean_lines),
        "dock": w.gait.dock.geometry().getRect(),
        "timeline": w.gait.timeline.mapTo(w, w.gait.timeline.rect().topLeft()).toTuple()
                    + w.gait.timeline.size().toTuple(),
        "window": w.geometry().getRect(),
    }
    with open(out + ".part", "w") as fh:
        json.dump(state, fh)
    import os
    os.replace(out + ".part", out)


def hook():
    w = next(x for x in app.topLevelWidgets() if isinstance(x, MainWindow))

    def final(event):
        if event.t is None:  # the panel has shown it: it subscribed first
            QTimer.singleShot(1500, lambda: report(w, event))
    w.events.subscribe(ev.GaitUpdated, final)


QTimer.singleShot(0, hook)
sys.exit(run_gui(clip, "full", gait=True))
"""


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Xvfb is Linux only")
def test_gait_mode_on_the_real_walk_in_a_real_window_on_a_real_x_server(
        xvfb, tmp_path, sports2d_video):  # noqa: F811 - the fixture imported above
    """The walker crosses the frame at 2-6 s; at the end of the clip the final update is
    on the screen: steps and cadence in the panel, every event on the timeline, every
    stride's curves of both feet."""
    env = _xcb_env(xvfb, tmp_path)
    env["PYTHONPATH"] = str(ROOT)
    state_file = tmp_path / "gait_state.json"
    with real_window([sys.executable, "-c", DRIVER, str(sports2d_video), str(state_file)],
                     env, tmp_path) as app:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not state_file.exists():
            assert app.poll() is None, app.communicate()[1]
            time.sleep(1)
        assert state_file.exists(), "no final GaitUpdated reached the window"
        state = json.loads(state_file.read_text())
        shot = _screenshot(xvfb, tmp_path / "gait.png", tmp_path)
        keep_screenshot(tmp_path / "gait.png", "screenshot_gait.png")
        out, err = close_window(app)
    assert "Traceback" not in err and "Fatal" not in err
    steps = state["summary_steps"]
    assert steps >= 4, state
    cadence = f"{state['cadence']:.0f} steps/min"
    assert state["headline"] == f"{steps} steps · {cadence}"
    assert state["cells"]["Cadence"][0] == cadence
    assert state["cells"]["Steps (heel strikes)"][0] == str(steps)
    assert state["status"] == "Analysed: the whole walk (final)."
    assert state["markers"] == state["events"]
    assert sum(v for k, v in state["events"].items() if k.startswith("heel")) == steps
    assert state["drawn"] == state["curves"]
    assert all(state["curves"][f"{j}:{f}"] > 0 for j in ("knee_flex", "hip_flex")
               for f in ("left", "right")), state["curves"]
    assert len(state["means"]) == 4
    assert state["cells"]["Person analysed"][0].startswith("no. ")
    # on the screen: the panel right of the video, the timeline under it, both drawn on
    x, y, dw, dh = state["dock"]
    dock = shot[y:y + dh, x:x + dw]
    assert (dock.max(axis=2) < 0.1).mean() > 0.15, "no plots in the gait panel"
    tx, ty, tw, th = state["timeline"]
    strip = shot[ty:ty + th, tx:tx + tw]
    blue = (strip[..., 2] > 0.6) & (strip[..., 0] < 0.35)  # the left foot's markers
    orange = (strip[..., 0] > 0.8) & (strip[..., 2] < 0.3)  # the right foot's
    assert blue.sum() > 50 and orange.sum() > 50, "no event markers on the timeline"
    assert f"Gait: {steps} steps, cadence {cadence}" in out, out


def test_gui_gait_option_opens_the_window_in_gait_mode(monkeypatch):
    import posture_monitor.gui.main as gui_main
    from posture_monitor import cli

    calls = []
    monkeypatch.setattr(gui_main, "run_gui", lambda *a, **k: calls.append((a, k)) or 0)
    assert cli.main(["gui", "--source", "walk.mp4", "--gait"]) == 0
    assert cli.main(["gui", "--source", "walk.mp4"]) == 0
    assert [(a[0], k["gait"]) for a, k in calls] == [("walk.mp4", True), ("walk.mp4", False)]
    line = gui_main.gait_line({"steps": 6, "cadence_steps_per_min": 97.9,
                               "person": {"analysed": 7}, "analysed_s": [[2.0, 6.1]]})
    assert line == "Gait: 6 steps, cadence 98 steps/min (person 7, 2.0-6.1 s)"
    assert gui_main.gait_line({"withheld": "not_walking: no steady walking pass"}) == \
        "Gait: nothing measured (not_walking: no steady walking pass)"


def test_gait_mode_takes_the_walkers_height_from_the_settings(make_window):
    """Settings > Gait and people > Walker's height: the window's gait analysis gives
    step lengths in metres too (without it, leg lengths only)."""
    w = make_window(height_cm=172.0)
    w.gait.start()
    assert w.gait.settings.enabled and w.gait.settings.height_cm == 172.0
    w.gait.stop()
    plain = make_window()
    plain.gait.start()
    assert plain.gait.settings.height_cm is None
