"""EVALUATION.md and MODEL_CARD.md, written by every training run from its own numbers."""

from __future__ import annotations

from pathlib import Path

from posture_monitor.core.classify.labels import LABEL_NAMES, LABELS
from posture_monitor.training.evaluate import markdown_table

FRONT_LABELS = tuple(lbl.name for lbl in LABELS if "front" in lbl.views)
SIDE_LABELS = tuple(lbl.name for lbl in LABELS if "left" in lbl.views)


def _pct(v) -> str:
    return "-" if v is None else f"{100 * v:.1f} %"


def _num(v, digits: int = 2) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def _views_sentence() -> str:
    def names(view: str) -> str:
        return ", ".join(lbl.name.replace("_", " ") for lbl in LABELS if view in lbl.views)

    hips = ", ".join(lbl.name.replace("_", " ") for lbl in LABELS if lbl.needs_hips)
    needs = "; ".join(f"{lbl.name.replace('_', ' ')} in {view} views needs `{metric}`"
                      for lbl in LABELS for view, metric in lbl.needs)
    return (f"Only labels the view can show are scored (side views: {names('left')}; front "
            f"views: {names('front')}; {hips} also need trustworthy hips"
            f"{'; ' + needs if needs else ''}).")


def _f1_auc_table(rows: dict[str, dict], labels: tuple[str, ...], first: str) -> list[str]:
    """One row per condition, 'F1 / AUC (known)' per label."""
    lines = [f"| {first} | " + " | ".join(labels) + " |",
             "|---|" + "---|" * len(labels)]
    for name, r in rows.items():
        cells = []
        for label in labels:
            x = r["labels"][label]
            cells.append(f"{_num(x['f1'])} / {_num(x.get('auc'))} ({x['n']})" if x["n"] else "-")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def clip_rows(clips: dict[str, dict]) -> list[str]:
    """Real clips: what the classifier says frame by frame."""
    lines = ["| clip | frames (views) | label | answered | share > 0.5 | median | 95th pct |",
             "|---|---|---|---|---|---|---|"]
    for name, r in clips.items():
        views = ", ".join(f"{v} {n}" for v, n in sorted(r["views"].items()))
        for label in LABEL_NAMES:
            x = r["labels"][label]
            if not x["answered"]:
                continue
            lines.append(f"| {name} | {r['frames']} ({views}) | {label} | {x['answered']} | "
                         f"{_pct(x['above'])} | {x['median']:.3f} | {x['p95']:.3f} |")
    phased = {n: r for n, r in clips.items() if r.get("phases")}
    if phased:
        lines += ["", "| clip | label | present (s) | frames present / absent | ROC AUC | F1 | "
                  "share > 0.5 present / absent | median present / absent |",
                  "|---|---|---|---|---|---|---|---|"]
        for name, r in phased.items():
            ph = r["phases"]
            spans = ", ".join(f"{a:g}-{b:g}" for a, b in ph["present_s"])
            lines.append(
                f"| {name} | {ph['label']} | {spans} (+-{ph['guard_s']:g} s left out) | "
                f"{ph['frames_present']} / {ph['frames_absent']} | {_num(ph['auc'], 3)} | "
                f"{_num(ph['f1'], 3)} | {_pct(ph['above_present'])} / "
                f"{_pct(ph['above_absent'])} | {_num(ph['median_present'], 3)} / "
                f"{_num(ph['median_absent'], 3)} |")
    return lines


def _front_section(meta: dict, ev: dict) -> list[str]:
    command = ev.get("command") or "posture-monitor train ..."
    model = "models/posture_classifier.tflite"
    val = ev["validation_int8_by_view"]
    lines = [
        "## Front views (the desk webcam)",
        "",
        f"Produced by `{command}` (synthetic figures: fixed by the seed). Labels answered "
        f"from the front: {', '.join(FRONT_LABELS)}. Cells: F1 / ROC AUC (known samples).",
        "",
        "### Synthetic validation subjects, by view",
        "",
        *_f1_auc_table({"front views": val["front"], "side views": val["side"]},
                       LABEL_NAMES, "view"),
        "",
        "### Front views under distribution shift (synthetic, int8)",
        "",
        "Conditions the training never saw: landmark noise x3, the camera turned 10 deg "
        "past the training spread, rolled 12 deg, every desk hiding the hips, every front "
        "view from a laptop camera 35-50 cm below the eyes (training: 10-35 cm), hair "
        "over both ears of every subject (training: a quarter of subjects, each ear 70 %).",
        "",
    ]
    if ev["shift"]:
        lines += _f1_auc_table({k: v["by_view"]["front"] for k, v in ev["shift"].items()},
                               FRONT_LABELS, "condition (front views)")
        lines += ["", "The same conditions, side views:", ""]
        lines += _f1_auc_table({k: v["by_view"]["side"] for k, v in ev["shift"].items()},
                               SIDE_LABELS, "condition (side views)")
    else:
        lines.append("Not run (`--shift-samples 0`).")
    lines += ["", "### Real front-view clips never trained on", ""]
    clips = ev.get("real_clips") or {}
    if not clips:
        lines.append("None given (`--real-eval CLIP.mp4` or `CLIP.mp4@LABEL=START-END`).")
        return lines
    lines += [
        "Every frame through the runtime pipeline (MediaPipe full, smoothing, metrics, this "
        "model), as `analyze` runs it. Clips without phases show an upright person "
        "throughout, so every frame above 0.5 is a false alarm; a phased clip names the "
        "seconds its label is present.",
        "",
        *clip_rows(clips),
        "",
        "Commands (per clip; `analyze` writes the per-frame `p_<label>` columns):",
        "",
    ]
    for r in clips.values():
        lines += [f"    posture-monitor evaluate --model {model} {r['spec']}"]
    paths = " ".join(sorted({r["spec"].split("@")[0] for r in clips.values()}))
    lines += [f"    posture-monitor analyze {paths} --out OUT", ""]
    people = (ev.get("calibration") or {}).get("people")
    cal = (ev.get("calibration") or {}).get("setups") or {}
    if cal:
        real = {n: r["front_metric_medians"] for n, r in clips.items()
                if r.get("front_metric_medians") and not r.get("phases")}
        metrics = list(next(iter(cal.values())))
        lines += [
            "### Calibration: real upright people vs synthetic upright people (front views)",
            "",
            "Medians of the upright real clips' front frames, and the synthetic near-neutral "
            "people's "
            "5th percentile / median / 95th percentile per desk set-up (laptop camera 10-35 "
            "cm below the eyes, monitor camera up to 15 cm above them; "
            f"{people} people each, `training/synthetic.py: upright_front`).",
            "",
            "| metric | " + " | ".join(f"{n} (real)" for n in real) + " | "
            + " | ".join(f"synthetic {k}" for k in cal) + " |",
            "|---|" + "---|" * (len(real) + len(cal)),
        ]
        for m in metrics:
            cells = [_num(real[n].get(m), 3) for n in real]
            cells += [f"{c[m]['p5']:.3f} / {c[m]['median']:.3f} / {c[m]['p95']:.3f}"
                      for c in cal.values()]
            lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return lines


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
        _views_sentence(),
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
    lines += ["", *_front_section(meta, ev)]
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
                       f"{lbl['source']} | {', '.join(lbl['views'])} |"
                       for lbl in meta["label_table"])
    front = ev.get("validation_int8_by_view", {}).get("front", {}).get("labels", {})
    front_line = ", ".join(f"{n} F1 {_num(front[n]['f1'])} / AUC {_num(front[n]['auc'])}"
                           for n in FRONT_LABELS if front.get(n, {}).get("n")) or "not run"
    clips = ev.get("real_clips") or {}
    upright = "; ".join(f"{n}: {_pct(r['labels']['forward_head']['above'])} of "
                        f"{r['labels']['forward_head']['answered']} frames above 0.5"
                        for n, r in clips.items()
                        if not r.get("phases") and r["labels"]["forward_head"]["answered"])
    phased = "; ".join(f"{n}: ROC AUC {_num(r['phases']['auc'], 3)} between its "
                       f"{r['phases']['label']} and upright phases"
                       for n, r in clips.items() if r.get("phases"))
    clip_line = (f"- Real front-view clips (forward_head): upright people: {upright or 'none'}; "
                 f"constructed forward head: {phased or 'none'}." if clips else
                 "- Real front-view clips: none evaluated.")
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

| label | definition | default threshold | source | views |
|---|---|---|---|---|
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
- Front views (synthetic validation subjects, int8): {front_line}.
- Distribution shift (int8): {shift_line}.
- Real photos never trained on: {real}.
{clip_line}

## Limits
- Trained on synthetic bodies only. The link between the true cranio-vertebral angle and
  MediaPipe's ear/shoulder landmarks rests on our assumed C7 and tragus offsets, not on
  radiographs; `forward_head` is therefore the least trustworthy label.
- Real labelled data exists only for trunk flexion/extension in strict side views (13
  photos of one adult; 2 kneeling photos carry no label). Photos labelled "straight" are
  taken to show no forward head either: an assumption, not a CVA measurement. Lateral
  lean, shoulder asymmetry and head tilt have no real validation at all.
- From the front, `forward_head` is read from the head's height, size and pitch relative
  to the shoulders, which the camera's height and the person's build change as much as a
  moderate forward head does: a single frame is ambiguous, a change within one person and
  set-up is not (use a baseline). Real front-view data: one upright adult with glasses at
  three desk cameras, and a constructed forward head (those real frames with the head
  warped lower and bigger), not a recording of a real forward head. Hands or objects in
  front of the chest drag MediaPipe's shoulder points and can raise `forward_head`.
- `trunk_flexion` is not answered from the front: it rests on visible hips (hidden at a
  desk) and on MediaPipe's depth, which is compressed. Trained from the front as an
  experiment (issue 10) it scored well on synthetic front views (F1 0.88, AUC 0.98) but
  called the upright person of the only real front frames with trustworthy hips (40
  frames of front_low_cam0.mp4, all while he held a board) slouched in 20 % of them.
- Demographic gaps: the body model covers adult statures and proportions of one
  population's averages (Winter's segment tables); children, pregnancy, obesity,
  scoliosis, wheelchair users and other body shapes are not represented.
- The runtime abstains (no label) in oblique and back views, when the landmarks a view
  needs are missing (from the front, `forward_head` needs the nose and both shoulders),
  and for trunk labels when the hips are not trustworthy.
- Labels weaker than F1 0.8 on validation: {', '.join(weak) or 'none'}.
"""
    path.write_text(text, encoding="utf-8")
