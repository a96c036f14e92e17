"""Keep native libraries offline: no frame, number or name may leave the machine.

MediaPipe's native library (since 0.10.35, including the 1.2 series we use) carries
Google's usage logging and posts to play.googleapis.com through libcurl
(google-ai-edge/mediapipe issue 6291); there is no documented switch, and Python-level
socket hooks cannot see a native connection. libcurl does honour the proxy variables of
the process, so pointing every one of them at a closed loopback port before MediaPipe
loads makes the library connect only to 127.0.0.1 (and fail there) instead of resolving
and reaching Google. Measured with `strace -f -e trace=connect`: before, every `analyze`
run queried DNS for the host; after, no connection leaves loopback
(tests/test_offline.py runs the real `analyze` and the real window under strace).

This program never needs the network, so overriding a user's own proxy settings inside
our process costs nothing. Port 9 is the "discard" port, closed on ordinary machines;
if something listens there, it is still on this machine.
"""

from __future__ import annotations

import os

CLOSED_LOOPBACK_PROXY = "http://127.0.0.1:9"
PROXY_VARIABLES = ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY",
                   "all_proxy", "ALL_PROXY")  # fmt: skip
# An exemption list would let curl connect directly again ("*" exempts every host).
NO_PROXY_VARIABLES = ("no_proxy", "NO_PROXY")
# The user's own values, before we replaced them: a child process that does need the
# network (pip in the packaging tests) gets them back through `environment_for_children`.
_ORIGINAL: dict[str, str | None] | None = None


def keep_native_libraries_offline() -> None:
    """Point every proxy variable of this process at a closed loopback port; idempotent.

    Call before any native library that may phone home is loaded (MediaPipe)."""
    global _ORIGINAL
    if _ORIGINAL is None:
        _ORIGINAL = {n: os.environ.get(n) for n in PROXY_VARIABLES + NO_PROXY_VARIABLES}
    for name in PROXY_VARIABLES:
        os.environ[name] = CLOSED_LOOPBACK_PROXY
    for name in NO_PROXY_VARIABLES:
        os.environ.pop(name, None)


def environment_for_children() -> dict[str, str]:
    """This process's environment with the user's own proxy settings put back, for a
    child process that is meant to reach the network (never one that loads MediaPipe)."""
    env = dict(os.environ)
    for name, value in (_ORIGINAL or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env
