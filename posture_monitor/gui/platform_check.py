"""Before Qt starts: can its X11 (xcb) platform plugin load on this machine?

Qt aborts (exit 134) with a long message when a system library of its xcb plugin is missing;
this names the missing libraries and the command that installs them, as one line. It imports
nothing from Qt, so it runs before Qt can abort. `python -m posture_monitor.gui.platform_check`
prints the Debian packages still missing (used by `make test`).
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Iterable, Mapping

from posture_monitor.core.common.errors import UserError

# System libraries that PySide6's xcb plugin needs and its wheel does not ship, with their
# Debian/Ubuntu package: the non-Qt NEEDED entries of plugins/platforms/libqxcb.so,
# lib/libQt6XcbQpa, libQt6Gui, libQt6DBus and libQt6Core (PySide6 6.11, `readelf -d`).
# libxcb-xinerama is not among them since Qt 6.
XCB_LIBRARIES: dict[str, str] = {
    "libxcb.so.1": "libxcb1",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
}


def qt_platform(env: Mapping[str, str] | None = None, system: str | None = None) -> str | None:
    """The platform plugin Qt will try first, from the same variables Qt reads; None where
    it is not a Linux question (Windows, macOS)."""
    env = os.environ if env is None else env
    system = sys.platform if system is None else system
    chosen = env.get("QT_QPA_PLATFORM", "").strip()
    if chosen:
        return chosen.split(";")[0].split(":")[0]
    if not system.startswith("linux"):
        return None
    # Qt prefers Wayland when the session is one, and falls back to xcb otherwise.
    if env.get("WAYLAND_DISPLAY") or env.get("XDG_SESSION_TYPE") == "wayland":
        return "wayland"
    return "xcb"


def missing_libraries(names: Iterable[str]) -> list[str]:
    """The libraries among `names` that the dynamic loader cannot load, in order.

    dlopen searches like the loader will for Qt (LD_LIBRARY_PATH, ld.so.cache, system
    folders) and also fails on a library whose own dependencies are missing."""
    missing = []
    for name in names:
        try:
            ctypes.CDLL(name)
        except OSError:
            missing.append(name)
    return missing


def check_qt_platform(env: Mapping[str, str] | None = None, system: str | None = None,
                      libraries: Mapping[str, str] = XCB_LIBRARIES) -> None:
    """Raise UserError (one line naming the fix) when Qt's xcb platform cannot start here.

    `libraries` maps each library to its Debian package; tests add one that does not exist."""
    env = os.environ if env is None else env
    if qt_platform(env, system) != "xcb":
        return
    if not env.get("DISPLAY"):
        raise UserError("no X display to open the window on (DISPLAY is not set): start it "
                        "from a desktop session, or analyse headless with "
                        "`posture-monitor analyze VIDEO --out DIR`")
    missing = missing_libraries(libraries)
    if missing:
        packages = " ".join(dict.fromkeys(libraries[name] for name in missing))
        raise UserError(f"the window cannot open: Qt's X11 (xcb) platform needs "
                        f"{', '.join(missing)}, which cannot be loaded; install with "
                        f"`sudo apt-get install {packages}` (Debian/Ubuntu package names)")


def missing_packages(libraries: Mapping[str, str] = XCB_LIBRARIES) -> list[str]:
    return list(dict.fromkeys(libraries[name] for name in missing_libraries(libraries)))


if __name__ == "__main__":
    print(" ".join(missing_packages()))
