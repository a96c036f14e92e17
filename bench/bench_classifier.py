"""Benchmark: one call of the shipped int8 posture classifier through LiteRT.

    python bench/bench_classifier.py [--calls 20000]

Times `PostureClassifier.predict` (standardize, quantize, invoke, dequantize) and the bare
interpreter `invoke()` alone, on real feature vectors from the synthetic generator.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from posture_monitor.core.classify.classifier import PostureClassifier, resolve_classifier  # noqa: E402
from posture_monitor.core.classify.features import compute_features  # noqa: E402
from posture_monitor.core.measure.metrics import measure  # noqa: E402
from posture_monitor.training.synthetic import generate  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000)
    args = parser.parse_args()
    clf = PostureClassifier()
    feats = []
    for s in generate(400, seed=99):
        m = measure(s.pose, s.width, s.height)
        if m.view in ("left", "right", "front"):
            feats.append(compute_features(s.pose, m, s.width, s.height))
    X = np.stack(feats)
    for x in X[:200]:  # warm up
        clf.predict(x)
    per_call, invoke_only = [], []
    for _ in range(5):
        t0 = time.perf_counter()
        for i in range(args.calls):
            clf.predict(X[i % len(X)])
        per_call.append((time.perf_counter() - t0) / args.calls * 1e6)
        t0 = time.perf_counter()
        for _ in range(args.calls):
            clf._interp.invoke()
        invoke_only.append((time.perf_counter() - t0) / args.calls * 1e6)
    size = resolve_classifier().stat().st_size
    print(f"model: {resolve_classifier().name}, {size} bytes, int8 in/out: {clf.int8}")
    print(f"predict (standardize + quantize + invoke + dequantize): "
          f"{statistics.median(per_call):.1f} us per call (median of 5 x {args.calls})")
    print(f"interpreter invoke() alone: {statistics.median(invoke_only):.1f} us per call")
    return 0


if __name__ == "__main__":
    sys.exit(main())
