"""Import MediaPipe without dragging TensorFlow in.

mediapipe's `tasks/python/core/optional_dependencies.py` imports TensorFlow, when it is
installed, only for API-doc decorators (its own comment: "only required in the API docgen
pipeline"), and falls back to a no-op otherwise. With the `[train]` extra installed that
costs every start of the app about 2 s, hundreds of MB and TensorFlow's log lines. We
register the same no-op first, unless TensorFlow is already loaded anyway (training).
"""

from __future__ import annotations

import sys
import types

_OPTIONAL = "mediapipe.tasks.python.core.optional_dependencies"


def import_mediapipe():
    from posture_monitor.core.common.offline import keep_native_libraries_offline

    keep_native_libraries_offline()  # before the native library loads: see core/common/offline.py
    if "tensorflow" not in sys.modules and _OPTIONAL not in sys.modules:
        stub = types.ModuleType(_OPTIONAL)
        stub.doc_controls = types.SimpleNamespace(do_not_generate_docs=lambda obj: obj)
        sys.modules[_OPTIONAL] = stub
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    return mp, BaseOptions, vision
