"""Guard against Qt bindings that leak references to None (PySide6 6.12.0 did: every void
call dropped one, and a window aborted after some seconds of drawing).

The leak only matters before Python 3.12: from 3.12 None is immortal (PEP 683), its
reference count is a fixed sentinel that neither a leak nor a new reference moves, so
counting proves nothing there and the count test is skipped. The version test runs
everywhere."""

import gc
import sys
from importlib.metadata import version

import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QImage, QPainter, QPen

KNOWN_BAD = {"6.12.0"}  # pyproject.toml excludes these; keep the two lists alike


def test_installed_pyside6_is_not_a_known_leaking_release():
    import PySide6

    installed = {PySide6.__version__, version("PySide6-Essentials")}
    assert not installed & KNOWN_BAD, f"PySide6 {installed} drops references to None"


def test_pyproject_excludes_the_known_leaking_releases():
    import tomllib

    from tests.conftest import ROOT

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (pyside,) = [d for d in deps if d.startswith("PySide6-Essentials")]
    for bad in KNOWN_BAD:
        assert f"!={bad}" in pyside, pyside


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12 "
                    "(PEP 683): its reference count never moves, so a leak cannot show")
def test_void_qt_calls_do_not_drop_references_to_none(qapp):
    # The count must be observable here, or the check below could not fail: 500 new
    # references to None move it by 500.
    gc.collect()
    base = sys.getrefcount(None)
    held = [None] * 500
    assert sys.getrefcount(None) - base >= 500
    del held

    image = QImage(64, 48, QImage.Format.Format_RGB888)
    painter = QPainter(image)
    pen = QPen(QColor(255, 0, 0))
    gc.collect()
    before = sys.getrefcount(None)
    for _ in range(2000):
        painter.setPen(pen)  # void calls: 6.12.0 dropped one reference to None on each
        painter.drawLine(QPointF(1, 1), QPointF(5, 5))
    gc.collect()
    after = sys.getrefcount(None)
    painter.end()
    assert after - before > -100, f"None lost {before - after} references in 4000 Qt calls"
