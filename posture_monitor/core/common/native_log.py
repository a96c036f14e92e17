"""Keep MediaPipe's native log chatter off the user's terminal.

MediaPipe's C++ side logs through absl straight to file descriptor 2 ("W0000 ...
inference_feedback_manager.cc ... Disabling support for feedback tensors", "INFO:
Created TensorFlow Lite XNNPACK delegate"). absl reads no environment variable for its
level, so while a landmarker is created and runs its first frame we point fd 2 at a
temporary file and afterwards pass on every line that is not one of those known,
harmless notices. Real errors still surface: as lines kept here, or, when the block
raises, as that exception (MediaPipe's exceptions repeat the text it logged, and the
CLI turns them into one line).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator

# LiteRT inside mediapipe 1.2.3 adds its own "INFO: [environment.cc:36] ..." and
# "WARNING: [model_load.cc:402] Sparsity tensors ..." lines when a model loads and closes;
# its ERROR lines still pass.
_NOISE = re.compile(
    r"^(?:[IWE]\d{4} .*|INFO: Created TensorFlow Lite .*|fully_quantize: .*|"
    r"(?:INFO|WARNING): \[[\w.]+:\d+\] .*|"
    r"WARNING: Logging before InitGoogle\(\) is written to STDERR|"
    r"WARNING: All log messages before absl::InitializeLog\(\) .*)$"
)


def terminal_stream():
    """A text stream on a copy of the current fd 2, for progress output that must stay
    visible while `quiet_native_stderr` has fd 2 redirected."""
    try:
        return os.fdopen(os.dup(sys.stderr.fileno()), "w", buffering=1)
    except (AttributeError, OSError, ValueError):
        return sys.stderr


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    if os.environ.get("POSTURE_MONITOR_NATIVE_LOG"):  # opt out for debugging
        yield
        return
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # no real stderr (frozen GUI, pytest capture)
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), fd)
        raised = False
        try:
            yield
        except BaseException:
            raised = True
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved, fd)
            os.close(saved)
            tmp.seek(0)
            lines = tmp.read().decode("utf-8", "replace").splitlines()
            for line in [] if raised else lines:
                if line.strip() and not _NOISE.match(line):
                    print(line, file=sys.stderr)
