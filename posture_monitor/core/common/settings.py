"""Analysis settings: one dataclass shared by CLI flags, the app's settings dialog and
the sidecar JSON, with defaults that say where they come from."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Setting:
    """One user-adjustable number: its default and allowed range, defined once here and
    read by the command-line flags, the saved settings' validation (app_settings.py) and
    the Settings dialog, so none of them can allow what another rejects."""

    name: str
    default: float | int | None  # None: no value of the user's own (see its help)
    low: float | int
    high: float | int
    unit: str  # after a value in the dialog and in messages ("s", "fps", "" for none)
    help: str

    def check(self, value: float, flag: str) -> float:
        """`value` itself, or a one-line ValueError naming the flag and the range."""
        if not self.low <= value <= self.high:
            unit = f" {self.unit}" if self.unit else ""
            raise ValueError(f"{flag} must be between {self.low:g} and {self.high:g}{unit}, "
                             f"not {value:g}")
        return value


SETTINGS: dict[str, Setting] = {s.name: s for s in (
    Setting("camera_index", 0, 0, 63, "", "0 is the first camera the system lists."),
    Setting("camera_width", 1280, 160, 7680, "px", "Camera picture width."),
    Setting("camera_height", 720, 120, 4320, "px", "Camera picture height."),
    Setting("camera_fps", 30, 1, 240, "fps", "Frames per second asked of the camera."),
    # MediaPipe's own default confidence; below 0.1 noise passes, above 0.95 nothing does.
    Setting("min_visibility", 0.5, 0.1, 0.95, "",
            "Landmarks MediaPipe rates less visible than this are ignored."),
    # None keeps the classifier's own per-label thresholds (its .json), as `analyze` does.
    Setting("decision_threshold", None, 0.05, 0.95, "",
            "A posture label is shown when its probability is above this; empty: the "
            "model's own threshold for each label."),
    Setting("plot_window_s", 60, 10, 600, "s", "How many seconds the live plots show."),
    # Angles are always degrees; this is only the precision shown (0 or 1 decimal).
    Setting("angle_decimals", 0, 0, 1, "", "Decimals shown for angles."),
    # Users' first wish: no alarm for a glance at the keyboard.
    Setting("alert_onset_s", 10, 0, 60, "s",
            "A deviation must last this long before an alert: a glance at the keyboard "
            "does not count."),
    # Form cues during exercises (core/movement/form.py): screening cues, never a
    # diagnosis. Each default says where it comes from.
    # Convention: beyond 45 deg the trunk is closer to horizontal than to vertical;
    # a high-bar back squat to parallel reads 30-40 deg in the real side-view clip.
    Setting("form_trunk_lean_deg", 45, 15, 80, "deg",
            "Squat, lunge: the trunk bent further forward than this is a form cue."),
    # 2D frontal plane projection angle: within- and between-session SEM 2-4 deg
    # (Gwynne & Curran 2014, IJSPT 9:898), so 10 deg lies beyond measurement error.
    Setting("form_knee_valgus_deg", 10, 3, 30, "deg",
            "Front view: a knee falling inward (valgus) further than this is a form cue."),
    # The heel-toe line rising this much from the start of the repetition. Measured: on
    # flat feet in a deep squat (the real side-view clip) MediaPipe's lite model reads up
    # to 15 deg of apparent lift (the full model under 2), so 20 deg.
    Setting("form_heel_lift_deg", 20, 3, 40, "deg",
            "Side view: the heel rising this much off the floor during a repetition is a "
            "form cue."),
    # Convention, mirroring the lateral-lean label: leaning back to lift the arm higher.
    Setting("form_lean_back_deg", 10, 3, 40, "deg",
            "Arm raises: the trunk leaning back further than this is a form cue."),
    # The lateral_lean label's own default (twice natural sway, classify/labels.py).
    Setting("form_lateral_lean_deg", 10, 3, 30, "deg",
            "Front view: the trunk leaning sideways further than this is a form cue."),
    # Convention: 0.15 shoulder widths is about 6 cm on an adult.
    Setting("form_arm_height_diff", 0.15, 0.05, 1.0, "",
            "Front view, both arms: wrists at heights differing by more than this share of "
            "the shoulder width is a form cue."),
    # None: the exercise's own target (core/movement/exercises.py, with its source).
    Setting("rep_target_deg", None, 5, 180, "deg",
            "Range from rest that makes a repetition complete; empty: the exercise's own."),
    # Adults and children walking on their own: 50 cm (a toddler) to 250 cm.
    Setting("height_cm", None, 50, 250, "cm",
            "The walker's height: gait step lengths in metres too (leg length = 0.491 x "
            "height, Winter 2009); empty: step lengths in leg lengths only."),
    # The window's default (AppSettings): 2, so a second person in view is seen and can
    # be clicked to be measured. `analyze` looks for 1 unless --max-people says otherwise
    # (AnalysisSettings.max_people below): each person more costs time per frame.
    Setting("max_people", 2, 1, 10, "",
            "People the pose model looks for; the one measured is chosen among them "
            "(click a person in the video to measure them)."),
)}


@dataclass(frozen=True)
class AlertSettings:
    # a deviation must last this long (range and default: SETTINGS["alert_onset_s"])
    onset_s: float = float(SETTINGS["alert_onset_s"].default)
    clear_s: float = 2.0  # ...and the recovery this long before the alert ends
    cooldown_s: float = 60.0  # from the end of one alert to the start of the next
    grace_s: float = 10.0  # after calibration or resuming: no alert starts
    away_after_s: float = 3.0  # nobody in view this long: away


@dataclass(frozen=True)
class QualitySettings:
    # A landmark counts only if MediaPipe rates it at least this visible and present.
    # 0.5 is MediaPipe's own default for its confidence options.
    min_visibility: float = SETTINGS["min_visibility"].default
    min_presence: float = 0.5
    # View from the yaw of the shoulder line in MediaPipe's world landmarks
    # (0 = facing the camera, +-90 = side on, 180 = back to the camera).
    # 2D angles are valid at 45-90 deg camera angles and best at 90 (Puig-Divi et al. 2019);
    # we keep a stricter band so side metrics come from near-true side views only.
    front_max_yaw_deg: float = 30.0
    side_min_yaw_deg: float = 60.0
    side_max_yaw_deg: float = 120.0
    back_min_yaw_deg: float = 150.0
    # Hips that MediaPipe guesses (under a desk, out of frame) keep high visibility, so
    # torso metrics also need a plausible trunk: shoulder-to-hip distance in the world
    # landmarks (metres) within adult/adolescent range...
    torso_min_m: float = 0.25
    torso_max_m: float = 0.80
    # ...and in the image at least this many times the shoulder-to-ear distance.
    torso_min_neck_ratio: float = 1.2
    # The nose must be at least this share of the shoulder-ear distance ahead of the ear
    # for a side view to know which way the person faces.
    min_facing_offset: float = 0.1


@dataclass(frozen=True)
class SmoothingSettings:
    # One Euro filter (Casiez et al., CHI 2012) on landmark coordinates.
    enabled: bool = True
    min_cutoff_hz: float = 1.0  # cut-off at rest: removes jitter above ~1 Hz
    beta: float = 10.0  # speed coefficient: raises the cut-off when the body moves
    d_cutoff_hz: float = 1.0  # cut-off for the speed estimate
    reset_after_gap_s: float = 0.5  # start afresh when the person was lost this long


@dataclass(frozen=True)
class ExerciseSettings:
    """An exercise to count (core/movement): a preset name or "free" (with `joints`);
    None counts nothing."""

    name: str | None = None
    side: str = "both"  # "both" | "left" | "right"
    joints: tuple[str, ...] = ()  # free mode: the joints chosen, the first one counted
    target: float | None = SETTINGS["rep_target_deg"].default  # None: the preset's own
    # form-check thresholds by SETTINGS name; a missing one takes its default there
    thresholds: dict[str, float] = field(default_factory=dict)


SEVERAL_PEOPLE = 4  # people sought by --all-people and --person (unless --max-people)


@dataclass(frozen=True)
class GaitSettings:
    """Gait analysis of a walker seen from the side (core/movement/gait.py)."""

    enabled: bool = False
    height_cm: float | None = SETTINGS["height_cm"].default  # step length in metres too


@dataclass(frozen=True)
class AnalysisSettings:
    model: str = "full"
    classifier: str = "default"  # "default" (shipped), "none", or a .tflite path
    # Probability above which a label is reported; None keeps the model's own per-label
    # thresholds (SETTINGS["decision_threshold"]).
    decision_threshold: float | None = SETTINGS["decision_threshold"].default
    score_time_constant_s: float = 1.0  # smoothing of the imbalance scores
    alerts: AlertSettings = field(default_factory=AlertSettings)
    quality: QualitySettings = field(default_factory=QualitySettings)
    smoothing: SmoothingSettings = field(default_factory=SmoothingSettings)
    landmarks: bool = False  # write raw landmark columns too
    angles: bool = False  # write the joint-angle columns too (core/measure/joints.py)
    mot: bool = False  # also write OpenSim .mot files of the angles (and repetitions)
    trc: bool = False  # also write the landmarks as an OpenSim marker file, <stem>.trc
    # the measured person's height (--height-cm with --opensim): the .trc's metres from
    # it (core/movement/markers.py); None: MediaPipe's own estimate of the body's size
    height_cm: float | None = None
    exercise: ExerciseSettings = field(default_factory=ExerciseSettings)
    gait: GaitSettings = field(default_factory=GaitSettings)
    # people the pose model looks for; the measured one is chosen among them
    # (core/vision/people.py, core/posture/person_choice.py). Gait looks for at least 2
    # (the walker may not be the first person found), --all-people and --person ID or
    # largest for at least 4. More people cost time: MediaPipe's person detector then
    # runs on every frame where fewer are tracked.
    max_people: int = 1
    person: str | int = "auto"  # whom to measure: auto | largest | a person number
    all_people: bool = False  # also one CSV per person (<stem>_p<ID>.csv)

    @property
    def people_sought(self) -> int:
        floor = 1
        if self.gait.enabled:
            floor = 2
        if self.all_people or self.person != "auto":
            floor = SEVERAL_PEOPLE
        return max(self.max_people, floor)

    def to_dict(self) -> dict:
        return asdict(self)
