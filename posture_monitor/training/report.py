"""EVALUATION.md and MODEL_CARD.md, written by every training run from its own numbers."""

from __future__ import annotations

from pathlib import Path

from posture_monitor.core.labels import LABEL_NAMES
from posture_monitor.training.evaluate import markdown_table


def _pct(v) -> str:
    return "-" if v is None else f"{100 * v:.1f} %"


def _weak_labels(result: dict, below: float = 0.8) -> list[str]:
    return [f"{n} (F1 {result['labels'][n]['f1']:.2f})" for n in LABEL_NAMES
            if result["labels"][n]["f1"] is not None and result["labels"][n]["f1"] < below]


def write_report(path: Path, meta: dict, ev: dict) -> None:
    t = meta["training"]
    agree = ev["float_vs_int8"]
    lines = [
        "# Posture classifier: evaluation report",
        "",
        f"Written by `posture-monitor train` on {meta['trained']} (seed {t['seed']}, "
        f"{t['epochs_run']} epochs, {meta['architecture']}, {meta['size_bytes']} bytes).",
        f"Training data: {t['samples']} samples from {t['sources']}; skipped: "
        f"{t['skipped'] or 'none'}. Validation: {t['split']} ({t['val_samples']} samples).",
        "Only labels the view can show are scored (side views: forward head, trunk "
        "flexion/extension; front views: lateral lean, shoulder asymmetry, head tilt; "
        "trunk labels also need trustworthy hips).",
        "",
        "## Validation (synthetic subjects never trained on), int8 model",
        "",
        markdown_table(ev["validation_int8"]),
        "",
        "![confusion matrices](evaluation/confusion_validation.png)",
        "",
        "## Float vs int8",
        "",
        f"Label decisions that agree between the float Keras model and the int8 TFLite model "
        f"on the validation set: **{_pct(agree['label_agreement'])}** of "
        f"{agree['decisions']}; largest probability difference "
        f"{agree['max_abs_prob_diff']:.3f}. Float model accuracy "
        f"{_pct(ev['validation_float']['accuracy'])}, int8 "
        f"{_pct(ev['validation_int8']['accuracy'])}.",
        "",
        "## Distribution shift (synthetic, int8)",
        "",
        "| condition | accuracy | all labels right | known decisions | skipped (the runtime "
        "abstains there) |",
        "|---|---|---|---|---|",
    ]
    for name, r in ev["shift"].items():
        lines.append(f"| {name} | {_pct(r['accuracy'])} | {_pct(r['exact_match'])} | "
                     f"{r['decisions']} | {r.get('skipped') or '-'} |")
    lines.append("\nWith the hips hidden the trunk labels are withheld (no trustworthy hips), so "
                 "that row scores the head and shoulder labels only; fewer known decisions "
                 "elsewhere mean more frames fell outside the views the runtime answers in.")
    for name, r in ev["shift"].items():
        if name != "in_distribution":
            weak = _weak_labels(r)
            lines.append(f"\n{name}: labels below F1 0.8: {', '.join(weak) or 'none'}.")
    lines += ["", "## Real photos never trained on", ""]
    if not ev["real"]:
        lines.append("None given (`--real-eval DIR`).")
    for name, r in ev["real"].items():
        lines += [f"### {name}", "", markdown_table(r), "",
                  f"Photos left out: {r.get('skipped') or 'none'} (postures that are no "
                  "label, e.g. kneeling, or photos without a usable pose).", "",
                  "| photo | known labels | predicted probability |", "|---|---|---|"]
        for row in r["per_photo"]:
            known = ", ".join(f"{k}={'yes' if v else 'no'}" for k, v in row["known"].items())
            pred = ", ".join(f"{k} {v:.2f}" for k, v in row["predicted"].items())
            lines.append(f"| {row['photo']} | {known} | {pred} |")
        lines += ["", f"![confusion matrices](evaluation/confusion_real_{name}.png)", ""]
    lines += ["", "Numbers: `evaluation/evaluation.json`."]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_model_card(path: Path, meta: dict, ev: dict) -> None:
    t = meta["training"]
    val = ev["validation_int8"]
    real = "; ".join(f"{n}: accuracy {_pct(r['accuracy'])} over {r['decisions']} decisions on "
                     f"{r['samples']} photos" for n, r in ev["real"].items()) or "none"
    weak = _weak_labels(val)
    shift = ev["shift"]
    shift_line = ", ".join(f"{k} {_pct(v['accuracy'])}" for k, v in shift.items()) or "not run"
    labels = "\n".join(f"| `{lbl['name']}` | {lbl['definition']} | {lbl['threshold']} | "
                       f"{lbl['source']} |" for lbl in meta["label_table"])
    text = f"""# Model card: posture classifier

`posture_classifier.tflite` ({meta['size_bytes']} bytes), `posture_classifier.json`
(labels, thresholds, feature statistics, feature version {meta['feature_version']},
training summary). Trained {meta['trained']} with TensorFlow
{meta['software']['tensorflow']}; rebuild with `make model`.

## What it is
A {meta['architecture']} head on top of MediaPipe Pose (BlazePose GHUM, frozen and
pretrained: transfer learning on its landmarks). It gives an independent probability
for each posture deviation below; "upright" means none is above its decision threshold
({meta['decision_thresholds'][LABEL_NAMES[0]]}).

| label | definition | default threshold | source |
|---|---|---|---|
{labels}

## Intended use
Feedback on sitting and standing posture for patients at a desk and for physiotherapists
reviewing sessions, as a screening aid beside the measured angles. **Not a diagnosis** and
not a medical device: it says whether landmarks look like a deviation as defined above,
not whether anything is wrong with a person.

## Data
{t['samples']} samples ({t['sources']}); skipped {t['skipped'] or 'none'}; data sha256
`{t['data_sha256'][:16]}...`. The training data is **synthetic**: a parametric 3D body with
anthropometric variation, posture parameters and random cameras, rendered into
MediaPipe-like landmarks with noise and visibility loss
(`posture_monitor/training/synthetic.py` lists every range and its source). Labels come
from the body's true 3D angles and the thresholds above.

## Metrics
- Synthetic validation subjects (held out by subject), int8: accuracy {_pct(val['accuracy'])},
  all labels right in {_pct(val['exact_match'])} of samples; per label in `EVALUATION.md`.
- Float vs int8 label agreement: {_pct(ev['float_vs_int8']['label_agreement'])}.
- Distribution shift (int8): {shift_line}.
- Real photos never trained on: {real}.

## Limits
- Trained on synthetic bodies only. The link between the true cranio-vertebral angle and
  MediaPipe's ear/shoulder landmarks rests on our assumed C7 and tragus offsets, not on
  radiographs; `forward_head` is therefore the least trustworthy label.
- Real labelled data exists only for trunk flexion/extension in strict side views (13
  photos of one adult; 2 kneeling photos carry no label). Photos labelled "straight" are
  taken to show no forward head either: an assumption, not a CVA measurement. Lateral
  lean, shoulder asymmetry and head tilt have no real validation at all.
- Demographic gaps: the body model covers adult statures and proportions of one
  population's averages (Winter's segment tables); children, pregnancy, obesity,
  scoliosis, wheelchair users and other body shapes are not represented.
- The runtime abstains (no label) in oblique and back views, when the landmarks a view
  needs are missing, and for trunk labels when the hips are not trustworthy.
- Labels weaker than F1 0.8 on validation: {', '.join(weak) or 'none'}.
"""
    path.write_text(text, encoding="utf-8")
