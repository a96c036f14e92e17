"""Draw the skeleton, the metric geometry and the reading status over one camera frame.

Called on the GUI thread (QPainter on a QImage; QtGui only, no widgets). All geometry is
computed in screen pixels after the optional mirror, so the picture and the lines flip
together while text is laid out afterwards and stays readable.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPainterPath, QPen

from posture_monitor.core.classify.classifier import Classification
from posture_monitor.core.measure.camera_tilt import NOT_REMOVED_FLAG
from posture_monitor.core.measure.definitions import (
    FRONTAL_VIEWS,
    METRIC_BY_COLUMN,
    SHORT_NAMES,
    SIDE_VIEWS,
)
from posture_monitor.core.measure.metrics import Measurement
from posture_monitor.core.vision.landmarks import INDEX, LOWER_BODY_EDGES, UPPER_BODY_EDGES
from posture_monitor.core.vision.pose import Pose

SKELETON = QColor(255, 255, 255, 210)
GOOD = QColor(40, 210, 90)  # visibility >= GOOD_VISIBILITY
FAIR = QColor(245, 200, 40)  # visibility >= min_visibility
POOR = QColor(230, 50, 50)  # below min_visibility: not used by any metric
MEASURED = QColor(255, 140, 0)  # the segment a metric is read from, and its arc
REFERENCE = QColor(80, 200, 255)  # the horizontal or vertical the angle is taken against
PLUMB = QColor(255, 255, 255, 170)
GRID = QColor(255, 255, 255, 55)
TEXT = QColor(255, 255, 255)
NOTICE_TEXT = QColor(255, 215, 120)
BOX = QColor(0, 0, 0, 160)  # semi-transparent, so the picture still shows through
GOOD_VISIBILITY = 0.8
OTHER_PERSON = QColor(150, 200, 255, 150)  # people in view who are not measured: faint
OTHER_TAG = QColor(170, 215, 255)  # ...and their number
MEASURED_TAG = QColor(255, 190, 90)  # the measured person's number

FRAME_NOTICES = {
    "no_pose": "No person found: no reading",
    "view:oblique": "Oblique view: turn side-on or face the camera",
    "view:back": "Seen from behind: no reading",
    "unreadable_image": "Unreadable image: no reading",
}


@dataclass
class OverlayOptions:
    mirror: bool = False  # self-view: flip the picture horizontally; text stays readable
    grid: bool = False  # light grid every 10 % of the width
    plumb_line: bool = True  # vertical reference line
    min_visibility: float = 0.5  # landmark drawn as usable at or above this
    # Exercise mode: the posture angles (CVA, torso, tilts) give way to the counted joint,
    # which `extra(painter, points, view)` draws after the skeleton, before the dots.
    posture_marks: bool = True
    extra: Callable[[_Painter, _Points, str], None] | None = None
    # Several people in view: the others (number, landmarks), drawn faint with their
    # number, and the measured person's number, shown by their head (None: not shown).
    others: tuple[tuple[int, Pose], ...] = field(default_factory=tuple)
    measured: int | None = None
    caption: str | None = None  # which camera, top right (two cameras side by side)


def reason_text(text: str) -> str:
    """A withheld reading's reason in words: "out_of_frame:left_hip" -> "out of frame:
    left hip"."""
    kind, _, detail = text.partition(":")
    kind = kind.replace("_", " ")
    return f"{kind}: {detail.replace('_', ' ')}" if detail else kind


def _signed(value: float) -> str:
    return f"{round(value) + 0.0:+.0f}"  # + 0.0: -0.3 reads "+0", not "-0"


def no_reading_lines(measurement: Measurement) -> list[str]:
    """One human-readable line per withheld reading, from the measurement's flags."""
    lines: list[str] = []
    for flag in measurement.flags:
        head, _, rest = flag.partition(":")
        if flag == NOT_REMOVED_FLAG:
            continue  # no reading is withheld: the 3D values carry the camera's tilt
        if flag in FRAME_NOTICES:
            line = FRAME_NOTICES[flag]
        elif head == "view":  # measure() writes view:<shoulder problem> when view is unknown
            detail = "" if rest in ("", "unknown") else f" ({reason_text(rest)})"
            line = "Shoulders not visible: no reading" + detail
        elif head in SHORT_NAMES:
            line = f"{SHORT_NAMES[head]}: no reading ({reason_text(rest)})"
        else:
            line = reason_text(flag).capitalize()
        if line not in lines:
            lines.append(line)
    return lines


class _Points:
    """Landmarks in screen pixels (mirrored if asked) with per-landmark usability."""

    def __init__(self, pose: Pose, w: int, h: int, mirror: bool, min_vis: float) -> None:
        norm = pose.image[:, :2]
        self.xy = norm * (w, h)
        if mirror:
            self.xy[:, 0] = w - self.xy[:, 0]
        self.visibility = pose.visibility
        self.inside = np.all((norm >= 0.0) & (norm <= 1.0), axis=1)
        self.usable = self.inside & (pose.visibility >= min_vis)

    def ok(self, *names: str) -> bool:
        return all(self.usable[INDEX[n]] for n in names)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.xy[INDEX[name]]


class _Painter:
    """QPainter plus sizes scaled to the frame, so overlays look alike at any resolution."""

    def __init__(self, image: QImage) -> None:
        self.w, self.h = image.width(), image.height()
        s = min(self.w, self.h)
        self.line_w = max(1.5, s * 0.006)
        self.radius = max(2.0, s * 0.008)
        self.font = QFont()
        self.font.setPixelSize(max(10, round(s * 0.032)))
        self.metrics = QFontMetricsF(self.font)
        self.p = QPainter(image)
        self.p.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.p.setFont(self.font)
        self.placed: list[QRectF] = []  # text boxes so far: later ones keep clear of them
        self.texts: list[str] = []  # every line of text drawn, in order

    def line(self, a: np.ndarray, b: np.ndarray, color: QColor, width: float | None = None,
             dashed: bool = False) -> None:
        pen = QPen(color, width or self.line_w)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        if dashed:
            pen.setStyle(Qt.PenStyle.DashLine)
        self.p.setPen(pen)
        self.p.drawLine(QPointF(*a), QPointF(*b))

    def arc(self, center: np.ndarray, v1: np.ndarray, v2: np.ndarray, radius: float) -> None:
        # Sampled by hand along the shorter way from v1 to v2: no Qt angle conventions.
        a1 = math.atan2(v1[1], v1[0])
        delta = (math.atan2(v2[1], v2[0]) - a1 + math.pi) % (2 * math.pi) - math.pi
        path = QPainterPath()
        for i in range(25):
            a = a1 + delta * i / 24
            pt = QPointF(center[0] + radius * math.cos(a), center[1] + radius * math.sin(a))
            path.moveTo(pt) if i == 0 else path.lineTo(pt)
        self.p.setPen(QPen(MEASURED, max(1.0, self.line_w * 0.6)))
        self.p.setBrush(Qt.BrushStyle.NoBrush)
        self.p.drawPath(path)

    def dot(self, at: np.ndarray, color: QColor) -> None:
        self.p.setPen(QPen(QColor(0, 0, 0, 180), max(1.0, self.line_w * 0.3)))
        self.p.setBrush(color)
        self.p.drawEllipse(QPointF(*at), self.radius, self.radius)

    def box_size(self, lines: list[str]) -> tuple[float, float]:
        pad = self.metrics.height() * 0.3
        return (max(self.metrics.horizontalAdvance(t) for t in lines) + 2 * pad,
                self.metrics.height() * len(lines) + 2 * pad)

    def place(self, lines: list[str], x: float, y: float) -> QRectF:
        """Where a box of `lines` with its top-left at (x, y) goes: kept in the frame and,
        if it would cover a box placed before, moved just below (else above) that one, so
        no text covers other text. The place is then taken."""
        tw, th = self.box_size(lines)
        gap = self.metrics.height() * 0.15
        rect = QRectF(min(max(0.0, x), max(0.0, self.w - tw)),
                      min(max(0.0, y), max(0.0, self.h - th)), tw, th)
        for _ in range(len(self.placed)):
            hit = next((r for r in self.placed if r.intersects(rect)), None)
            if hit is None:
                break
            below = hit.bottom() + gap
            rect.moveTop(below if below + th <= self.h else max(0.0, hit.top() - gap - th))
        self.placed.append(rect)
        return rect

    def box(self, lines: list[str], x: float, y: float, color: QColor = TEXT,
            rect: QRectF | None = None) -> None:
        """Text lines on a semi-transparent box whose top-left is at (x, y), kept in frame
        and clear of the boxes before it (or exactly at `rect`, from `place`)."""
        pad = self.metrics.height() * 0.3
        rect = self.place(lines, x, y) if rect is None else rect
        self.p.setPen(Qt.PenStyle.NoPen)
        self.p.setBrush(BOX)
        self.p.drawRoundedRect(rect, pad, pad)
        self.p.setPen(color)
        self.texts.extend(lines)
        for i, text in enumerate(lines):
            base = rect.top() + pad + self.metrics.ascent() + i * self.metrics.height()
            self.p.drawText(QPointF(rect.left() + pad, base), text)

    def wrapped(self, lines: list[str]) -> list[str]:
        """`lines` broken at spaces so that a box of them fits the frame's width (a
        narrow picture: a portrait camera, or two cameras side by side)."""
        room = self.w - 2 * self.radius - self.metrics.height() * 0.6
        out: list[str] = []
        for line in lines:
            words, current = line.split(" "), ""
            for word in words:
                test = f"{current} {word}" if current else word
                if current and self.metrics.horizontalAdvance(test) > room:
                    out.append(current)
                    current = word
                else:
                    current = test
            out.append(current)
        return out

    def tag(self, text: str, at: np.ndarray, direction: float) -> None:
        """A value label beside a point: to the right (direction > 0) or left of it."""
        gap = self.radius * 2.5
        width = self.metrics.horizontalAdvance(text) + self.metrics.height() * 0.6
        x = at[0] + gap if direction > 0 else at[0] - gap - width
        self.box([text], x, at[1] - self.metrics.height() * 0.65)


def _angle_marks(pp: _Painter, origin: np.ndarray, end: np.ndarray, ref: np.ndarray,
                 arc_frac: float) -> None:
    """Measured segment origin->end, reference origin->ref and the arc between them."""
    pp.line(origin, ref, REFERENCE)
    pp.line(origin, end, MEASURED)
    length = float(np.linalg.norm(end - origin))
    if length > 1.0:
        pp.arc(origin, ref - origin, end - origin, length * arc_frac)


def _draw_side(pp: _Painter, pts: _Points, m: Measurement, side: str) -> None:
    ear, sh, hip = pts[f"{side}_ear"], pts[f"{side}_shoulder"], pts[f"{side}_hip"]
    cva, torso = m.values.get("cva_deg"), m.values.get("torso_incl_deg")
    if cva is not None and pts.ok(f"{side}_ear", f"{side}_shoulder"):
        facing = 1.0 if pts["nose"][0] >= ear[0] else -1.0  # the way the face points
        neck = float(np.linalg.norm(ear - sh))
        _angle_marks(pp, sh, ear, sh + (facing * neck, 0.0), 0.4)
        tag = METRIC_BY_COLUMN["cva_deg"].picture_tag
        pp.tag(f"{tag} {cva:.0f}°", sh, -facing)  # behind the neck, clear of the arc
    if torso is not None and pts.ok(f"{side}_hip", f"{side}_shoulder"):
        length = float(np.linalg.norm(sh - hip))
        _angle_marks(pp, hip, sh, hip - (0.0, length * 0.8), 0.3)
        tag = METRIC_BY_COLUMN["torso_incl_deg"].picture_tag
        pp.tag(f"{tag} {_signed(torso)}°", hip, -1.0 if sh[0] > hip[0] else 1.0)


def _draw_front(pp: _Painter, pts: _Points, m: Measurement) -> None:
    for column, pairs in (
        ("shoulder_tilt_deg", (("right_shoulder", "left_shoulder"),)),
        ("head_tilt_deg", (("right_ear", "left_ear"), ("right_eye", "left_eye"))),
    ):
        value = m.values.get(column)
        usable = [pair for pair in pairs if pts.ok(*pair)]  # same fallback as measure()
        if value is None or not usable:
            continue
        a, b = sorted((pts[usable[0][0]], pts[usable[0][1]]), key=lambda p: p[0])
        pp.line(a, (b[0], a[1]), REFERENCE)
        pp.line(a, b, MEASURED)
        pp.tag(f"{SHORT_NAMES[column]} {_signed(value)}°", b, 1.0)
    lean = m.values.get("lateral_lean_deg")
    if lean is not None and pts.ok("left_hip", "right_hip", "left_shoulder", "right_shoulder"):
        hip = (pts["left_hip"] + pts["right_hip"]) / 2
        sh = (pts["left_shoulder"] + pts["right_shoulder"]) / 2
        _angle_marks(pp, hip, sh, hip - (0.0, float(np.linalg.norm(sh - hip)) * 0.8), 0.3)
        pp.tag(f"{SHORT_NAMES['lateral_lean_deg']} {_signed(lean)}°", hip, 1.0)
    if pts.ok("left_ear", "right_ear", "left_shoulder", "right_shoulder"):
        _draw_front_head(pp, pts, m)


def _draw_front_head(pp: _Painter, pts: _Points, m: Measurement) -> None:
    """Neck height as a height mark from the shoulder midline up to the ear midpoint (what
    measure() reads: the vertical distance only), and a box above the head with how far
    the head sits ahead of the shoulders and its pitch."""
    ear = (pts["left_ear"] + pts["right_ear"]) / 2
    sh = (pts["left_shoulder"] + pts["right_shoulder"]) / 2
    shoulder_w = float(np.linalg.norm(pts["left_shoulder"] - pts["right_shoulder"]))
    ear_w = float(np.linalg.norm(pts["left_ear"] - pts["right_ear"]))
    neck = m.values.get("neck_height_ratio")
    if neck is not None:
        top = np.array([sh[0], ear[1]])
        tick = max(pp.radius * 2, shoulder_w * 0.08)
        pp.line(sh - (tick, 0.0), sh + (tick, 0.0), REFERENCE)
        left, right = min(top[0], ear[0]) - tick, max(top[0], ear[0]) + tick
        pp.line((left, top[1]), (right, top[1]), REFERENCE)  # reaches the ear midpoint
        pp.line(sh, top, MEASURED)
        pp.tag(f"{SHORT_NAMES['neck_height_ratio']} {neck:.2f}", (sh + top) / 2, -1.0)
    lines = []
    fwd, pitch = m.values.get("head_fwd_cm"), m.values.get("head_pitch_deg")
    if fwd is not None:
        lines.append(f"Head {abs(fwd):.0f} cm {'ahead' if fwd >= 0 else 'behind'}")
    if pitch is not None:
        lines.append(f"Chin {'down' if pitch >= 0 else 'up'} {abs(pitch):.0f}°")
    if lines:
        bw, bh = pp.box_size(lines)
        head_top = min(pts["left_ear"][1], pts["right_ear"][1]) - ear_w * 0.9
        if head_top - pp.radius - bh >= 0:  # room above the head: centred over it
            pp.box(lines, ear[0] - bw / 2, head_top - pp.radius - bh)
        else:  # beside the head, away from the head tilt label on the right
            x = min(pts["left_ear"][0], pts["right_ear"][0]) - pp.radius * 2.5 - bw
            pp.box(lines, x, ear[1] - bh)


def _plumb_x(pts: _Points, view: str) -> float | None:
    if view in SIDE_VIEWS:
        for name in (f"{view}_ankle", f"{view}_hip"):
            if pts.ok(name):
                return float(pts[name][0])
    elif view in FRONTAL_VIEWS and pts.ok("left_hip", "right_hip"):
        return float((pts["left_hip"][0] + pts["right_hip"][0]) / 2)
    return None


def _draw_skeleton(pp: _Painter, pts: _Points) -> list[str]:
    """Draw the bones; return the landmarks whose dots belong to the drawn skeleton."""
    # The lower body only where that side's hip and knee are seen (not hidden by a desk).
    sides = {s for s in ("left", "right") if pts.ok(f"{s}_hip", f"{s}_knee")}
    edges = [*UPPER_BODY_EDGES, *(e for e in LOWER_BODY_EDGES if e[0].split("_")[0] in sides)]
    for a, b in edges:
        if pts.ok(a, b):
            pp.line(pts[a], pts[b], SKELETON, pp.line_w * 0.7)
    return list(dict.fromkeys(n for edge in edges for n in edge))


def _head_top(pts: _Points) -> np.ndarray | None:
    """Just above the person's head (or their highest point in view): where their number
    goes."""
    head = [INDEX[n] for n in ("nose", "left_ear", "right_ear", "left_shoulder",
                               "right_shoulder") if pts.usable[INDEX[n]]]
    if not head:
        head = [i for i in range(len(pts.xy)) if pts.inside[i]]
    if not head:
        return None
    xy = pts.xy[head]
    return np.array([float(np.mean(xy[:, 0])), float(xy[:, 1].min())])


def _person_tag(pp: _Painter, pts: _Points, text: str, color: QColor) -> None:
    top = _head_top(pts)
    if top is None:
        return
    bw, bh = pp.box_size([text])
    pp.box([text], top[0] - bw / 2, top[1] - pp.radius * 4 - bh, color)


def _draw_other(pp: _Painter, pose: Pose, number: int, opts: OverlayOptions) -> None:
    """Someone in view who is not measured: a faint skeleton and their number (click
    them to measure them)."""
    pts = _Points(pose, pp.w, pp.h, opts.mirror, opts.min_visibility)
    sides = {s for s in ("left", "right") if pts.ok(f"{s}_hip", f"{s}_knee")}
    for a, b in (*UPPER_BODY_EDGES, *(e for e in LOWER_BODY_EDGES
                                      if e[0].split("_")[0] in sides)):
        if pts.ok(a, b):
            pp.line(pts[a], pts[b], OTHER_PERSON, pp.line_w * 0.6)
    _person_tag(pp, pts, f"{number}", OTHER_TAG)


def _draw_dots(pp: _Painter, pts: _Points, names: list[str], min_vis: float) -> None:
    for name in names:
        i = INDEX[name]
        if not pts.inside[i]:  # a point outside the frame has nowhere honest to go
            continue
        v = pts.visibility[i]
        pp.dot(pts.xy[i], GOOD if v >= GOOD_VISIBILITY else FAIR if v >= min_vis else POOR)


def render_overlay(image_bgr: np.ndarray, pose: Pose | None, measurement: Measurement,
                   classification: Classification | None = None,
                   options: OverlayOptions | None = None,
                   texts: list[str] | None = None) -> QImage:
    """Return a new QImage (same size as the frame) with the overlay drawn on it; every
    line of text drawn is appended to `texts` if given (what tests read)."""
    opts = options or OverlayOptions()
    frame = np.ascontiguousarray(image_bgr)  # a copy only when the input is a strided view
    if frame.ndim == 2:  # grayscale source: Qt wants three channels here
        frame = np.repeat(frame[:, :, None], 3, axis=2)
    h, w = frame.shape[:2]
    # .copy() detaches the QImage from the numpy buffer, which may go away after return.
    image = QImage(frame.data, w, h, frame.strides[0], QImage.Format.Format_BGR888).copy()
    if opts.mirror:
        image = image.flipped(Qt.Orientation.Horizontal)
    image = image.convertToFormat(QImage.Format.Format_RGB888)

    pp = _Painter(image)
    try:
        # The fixed boxes take their corners first; value labels then keep clear of them.
        notices = pp.wrapped(no_reading_lines(measurement))
        notice_at = pp.place(notices, pp.radius, pp.radius) if notices else None
        if opts.caption:
            cw, _ = pp.box_size([opts.caption])
            pp.box([opts.caption], w - pp.radius - cw, pp.radius, MEASURED_TAG)
        label = None
        if classification is not None and classification.label:
            label = classification.label.replace("_", " ").replace("+", " + ")
            if classification.confidence is not None:
                label += f" {classification.confidence * 100:.0f} %"
            label_lines = pp.wrapped([label])
            _, height = pp.box_size(label_lines)
            label_at = pp.place(label_lines, pp.radius, h - pp.radius - height)
        if opts.grid:
            step = w / 10
            for k in range(1, int(h / step) + 1 if step > 0 else 0):
                pp.line((0, k * step), (w, k * step), GRID, 1.0)
            for k in range(1, 10):
                pp.line((k * step, 0), (k * step, h), GRID, 1.0)
        for number, other in opts.others:
            _draw_other(pp, other, number, opts)
        if pose is not None:
            pts = _Points(pose, w, h, opts.mirror, opts.min_visibility)
            x = _plumb_x(pts, measurement.view) if opts.plumb_line else None
            if x is not None:
                pp.line((x, 0), (x, h), PLUMB, max(1.0, pp.line_w * 0.4), dashed=True)
            names = _draw_skeleton(pp, pts)
            posture = opts.posture_marks
            if posture and measurement.view in SIDE_VIEWS:
                _draw_side(pp, pts, measurement, measurement.view)
            elif posture and measurement.view in FRONTAL_VIEWS:
                _draw_front(pp, pts, measurement)
            if opts.extra is not None:
                opts.extra(pp, pts, measurement.view)
            _draw_dots(pp, pts, names, opts.min_visibility)  # on top: visibility stays legible
            if opts.measured is not None:
                _person_tag(pp, pts, f"{opts.measured} measured", MEASURED_TAG)
        if notice_at is not None:
            pp.box(notices, 0, 0, NOTICE_TEXT, rect=notice_at)
        if label is not None:
            pp.box(label_lines, 0, 0, rect=label_at)
    finally:
        pp.p.end()  # a QPainter left open on a QImage crashes when the image is freed
    if texts is not None:
        texts.extend(pp.texts)
    return image
