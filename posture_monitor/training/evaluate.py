"""Evaluation: per-label precision/recall/F1 and ROC AUC, confusion matrices (numbers and
PNG), float vs int8 agreement. Only (sample, label) pairs whose label is known count."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from posture_monitor.core.classify.labels import LABEL_NAMES


def roc_auc(truth: np.ndarray, score: np.ndarray) -> float | None:
    """Area under the ROC curve: the chance that a random positive scores above a random
    negative (ties count half; Mann-Whitney U). None without both classes."""
    truth = np.asarray(truth, bool)
    score = np.asarray(score, float)
    n_pos, n_neg = int(truth.sum()), int((~truth).sum())
    if not n_pos or not n_neg:
        return None
    order = np.argsort(score, kind="mergesort")
    ranks = np.empty(len(score))
    ranks[order] = np.arange(1, len(score) + 1)
    s_sorted = score[order]
    starts = np.flatnonzero(np.r_[True, s_sorted[1:] != s_sorted[:-1]])
    ends = np.r_[starts[1:], len(score)]
    for a, b in zip(starts, ends, strict=True):  # tied scores share their mean rank
        if b - a > 1:
            ranks[order[a:b]] = (a + 1 + b) / 2
    return float((ranks[truth].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def label_metrics(Y: np.ndarray, M: np.ndarray, P: np.ndarray,
                  thresholds: np.ndarray) -> dict:
    """Per-label and overall figures; P are probabilities."""
    pred = thresholds <= P
    truth = Y >= 0.5
    known = M >= 0.5
    per = {}
    for i, name in enumerate(LABEL_NAMES):
        k = known[:, i]
        t, p = truth[k, i], pred[k, i]
        tp, fp = int(np.sum(t & p)), int(np.sum(~t & p))
        fn, tn = int(np.sum(t & ~p)), int(np.sum(~t & ~p))
        prec = tp / (tp + fp) if tp + fp else None
        rec = tp / (tp + fn) if tp + fn else None
        f1 = 2 * prec * rec / (prec + rec) if prec and rec else (0.0 if tp + fn else None)
        per[name] = {"n": int(k.sum()), "positives": int(t.sum()), "tp": tp, "fp": fp,
                     "fn": fn, "tn": tn, "precision": prec, "recall": rec, "f1": f1,
                     "auc": roc_auc(t, P[k, i]),
                     "accuracy": (tp + tn) / k.sum() if k.sum() else None}
    decisions = int(known.sum())
    correct = int(np.sum((pred == truth) & known))
    rows = known.any(axis=1)
    exact = np.all((pred == truth) | ~known, axis=1)[rows]
    return {"labels": per, "decisions": decisions,
            "accuracy": correct / decisions if decisions else None,
            "exact_match": float(exact.mean()) if len(exact) else None,
            "samples": int(rows.sum())}


def agreement(P_a: np.ndarray, P_b: np.ndarray, M: np.ndarray, thresholds: np.ndarray) -> dict:
    """Share of known (sample, label) decisions two models make alike, and the largest
    probability difference."""
    known = M >= 0.5
    same = (P_a >= thresholds) == (P_b >= thresholds)
    return {"label_agreement": float(same[known].mean()) if known.any() else None,
            "max_abs_prob_diff": float(np.abs(P_a - P_b)[known].max()) if known.any() else None,
            "decisions": int(known.sum())}


def confusion_png(result: dict, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(LABEL_NAMES), figsize=(3.0 * len(LABEL_NAMES), 3.3))
    for ax, name in zip(axes, LABEL_NAMES, strict=True):
        r = result["labels"][name]
        cm = np.array([[r["tn"], r["fp"]], [r["fn"], r["tp"]]])
        ax.imshow(cm, cmap="Blues")
        for (i, j), v in np.ndenumerate(cm):
            ax.text(j, i, str(v), ha="center", va="center",
                    color="white" if v > cm.max() / 2 else "black")
        ax.set_xticks([0, 1], ["no", "yes"])
        ax.set_yticks([0, 1], ["no", "yes"])
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        f1 = r["f1"]
        ax.set_title(f"{name}\nF1 {f1:.2f}" if f1 is not None else f"{name}\n(no positives)",
                     fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _fmt(v) -> str:
    return "-" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def markdown_table(result: dict) -> str:
    lines = ["| label | known | positives | precision | recall | F1 | ROC AUC | accuracy "
             "| TP | FP | FN | TN |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name in LABEL_NAMES:
        r = result["labels"][name]
        lines.append("| " + " | ".join([name] + [_fmt(r.get(k)) for k in (
            "n", "positives", "precision", "recall", "f1", "auc", "accuracy", "tp", "fp", "fn",
            "tn")]) + " |")
    lines.append(f"\nAll known decisions: {result['decisions']}, accuracy "
                 f"{_fmt(result['accuracy'])}; samples with every known label right: "
                 f"{_fmt(result['exact_match'])} of {result['samples']}.")
    return "\n".join(lines)
