"""Test-retest reliability of an exercise measure: ICC, standard error of measurement
(SEM) and minimal detectable change (MDC95), so a clinician can tell a real change from
noise. Pure numpy; the store's sessions are turned into numbers in core/records.

Formulas (docs/METRICS.md, "Test-retest reliability"):

* ICC(1,1), ICC(2,1), ICC(3,1) of Shrout & Fleiss 1979 (Psychol Bull 86:420) from the
  two-way ANOVA of a complete matrix, rows = targets, columns = occasions/raters:
  ICC(1,1) = (BMS - WMS) / (BMS + (k-1) WMS)                       one-way random
  ICC(2,1) = (BMS - EMS) / (BMS + (k-1) EMS + k (JMS - EMS) / n)   two-way random,
                                                                    absolute agreement
  ICC(3,1) = (BMS - EMS) / (BMS + (k-1) EMS)                       two-way mixed,
                                                                    consistency
* SEM = SD x sqrt(1 - ICC), SD of all cells, ICC clipped to [0, 1] (a negative ICC is
  sampling noise around 0: the SEM is then the SD itself);
* MDC95 = 1.96 x sqrt(2) x SEM (the difference between two single measurements that
  is larger than 95 % of differences from noise alone).

The design for one patient (`repeatability`): a practice follows one person, so there
are no subjects to make the rows of a classic between-subject ICC. What one person's
stored sessions of an exercise can show is how far single repetitions scatter around
their session's level. With k >= 2 sessions that each have >= 2 complete repetitions
of the measure, the matrix has rows = sessions and columns = the first n repetitions of
each (n = the fewest among them, so no cell is missing and no session weighs more):

* ICC(3,1) (consistency): the share of single-repetition variance that lies between
  sessions. The columns are ordered positions (1st, 2nd ... repetition) and a warm-up
  or fatigue pattern repeats in every session; consistency keeps that systematic
  effect out of the error, and it cancels anyway when two session means of the first n
  repetitions are compared. Near 1: single repetitions tell the sessions apart; near 0:
  the sessions differ no more than repetitions within a session do.
* SEM = SD x sqrt(1 - ICC(3,1)), about the repetition-to-repetition SD within a
  session; MDC95 for a single repetition, and MDC95 / sqrt(n) for a session mean of n
  repetitions (the noise of a mean shrinks with sqrt(n)): the band drawn around the
  first visit in reports.

Limits, said wherever the numbers are shown: this is within-patient repeatability
across sessions, not a between-subject ICC, and only repetition-to-repetition noise
enters the SEM. Whatever makes whole sessions differ (a real change, but also another
camera place, another day, fatigue from the session before) counts as a difference
between sessions, so the MDC is a lower bound on the noise between visits: a change
beyond it is beyond repetition noise, not proven beyond set-up noise. Fewer than two
usable sessions, or fewer than two complete repetitions in them, give no value, with
the reason. With few of them the numbers are rough: the noise is estimated from
(k-1)(n-1) degrees of freedom (ROUGH_BELOW_DF), one for 2 sessions of 2 repetitions, and
a warm-up pattern that happens to repeat then reads as no noise at all.

Why ICC(3,1) and not ICC(1,1), which would count every within-session difference as
noise: repetitions as columns follow the common practice for trials (Weir 2005, J
Strength Cond Res 19:231), and the comparison the numbers serve, of two session means
of the first n repetitions, is free of any position effect. ICC(2,1) would add that
effect to the error of a comparison it cannot affect.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

FORMS = ("1,1", "2,1", "3,1")
Z95 = 1.96
MIN_REPS = 2
MIN_SESSIONS = 2
ROUGH_BELOW_DF = 4  # fewer residual degrees of freedom: the report says "rough"


def anova(matrix: np.ndarray) -> dict[str, float]:
    """Mean squares of a complete n x k matrix: between targets (BMS), within targets
    (WMS), between judges (JMS) and residual (EMS)."""
    x = np.asarray(matrix, dtype=float)
    n, k = x.shape
    grand = x.mean()
    ss_total = float(((x - grand) ** 2).sum())
    ss_rows = k * float(((x.mean(axis=1) - grand) ** 2).sum())
    ss_cols = n * float(((x.mean(axis=0) - grand) ** 2).sum())
    return {"BMS": ss_rows / (n - 1), "WMS": (ss_total - ss_rows) / (n * (k - 1)),
            "JMS": ss_cols / (k - 1),
            "EMS": (ss_total - ss_rows - ss_cols) / ((n - 1) * (k - 1))}


def icc(matrix: Sequence[Sequence[float]] | np.ndarray, form: str = "3,1") -> float:
    """Shrout & Fleiss ICC of `matrix` (rows = targets, columns = occasions or raters,
    at least 2 x 2, every cell a finite number). ValueError for anything else, and when
    the matrix has no variance at all (the ICC is 0/0 there)."""
    if form not in FORMS:
        raise ValueError(f"ICC form must be one of {', '.join(FORMS)}")
    x = np.asarray(matrix, dtype=float)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 2:
        raise ValueError("an ICC needs at least 2 targets x 2 occasions")
    if not np.isfinite(x).all():
        raise ValueError("an ICC needs every cell: no missing or infinite values")
    n, k = x.shape
    ms = anova(x)
    bms, wms, jms, ems = ms["BMS"], ms["WMS"], ms["JMS"], ms["EMS"]
    if form == "1,1":
        num, den = bms - wms, bms + (k - 1) * wms
    elif form == "2,1":
        num, den = bms - ems, bms + (k - 1) * ems + k * (jms - ems) / n
    else:
        num, den = bms - ems, bms + (k - 1) * ems
    tiny = 1e-12 * max(1.0, float(np.abs(x).max())) ** 2
    if den <= tiny:
        if float(((x - x.mean()) ** 2).sum()) <= tiny:
            raise ValueError("the values do not vary: the ICC is undefined")
        raise ValueError("every session has the same values repetition by repetition (the "
                         "same recording twice?): the ICC is undefined")
    return num / den


def sem(sd: float, icc_value: float) -> float:
    """SD x sqrt(1 - ICC), the ICC clipped to [0, 1]."""
    return sd * math.sqrt(1.0 - min(max(icc_value, 0.0), 1.0))


def mdc95(sem_value: float, n: int = 1) -> float:
    """1.96 x sqrt(2) x SEM for single measurements; divided by sqrt(n) for means of n."""
    return Z95 * math.sqrt(2.0) * sem_value / math.sqrt(n)


@dataclass(frozen=True)
class Repeatability:
    """One measure's numbers over one patient's sessions, or the reason there are none."""

    icc: float | None = None  # ICC(3,1), not clipped
    sem: float | None = None
    mdc95_rep: float | None = None  # a single repetition
    mdc95_mean: float | None = None  # a session mean of n_reps repetitions
    n_sessions: int = 0
    n_reps: int = 0  # repetitions per session used (the first n of each)
    left_out: int = 0  # sessions with fewer than MIN_REPS values of the measure
    reason: str = ""  # why there is no value, "" when there is

    @property
    def ok(self) -> bool:
        return self.icc is not None

    @property
    def noise_df(self) -> int:
        """Degrees of freedom of the residual (the noise) the SEM rests on."""
        return max(self.n_sessions - 1, 0) * max(self.n_reps - 1, 0)

    @property
    def rough(self) -> bool:
        return self.ok and self.noise_df < ROUGH_BELOW_DF


def repeatability(per_session: Sequence[Sequence[float | None]]) -> Repeatability:
    """ICC(3,1), SEM and MDC95 of one measure from its per-repetition values, one list
    per session (complete repetitions in the order they were made; None or NaN where a
    repetition has no value). See the module docstring for the design and its limits."""
    values = [[float(v) for v in s if v is not None and math.isfinite(v)]
              for s in per_session]
    usable = [v for v in values if len(v) >= MIN_REPS]
    left_out = len(values) - len(usable)
    if len(usable) < MIN_SESSIONS:
        have = len(usable)
        return Repeatability(n_sessions=have, left_out=left_out, reason=(
            f"needs {MIN_SESSIONS} or more sessions with {MIN_REPS} or more complete "
            f"repetitions; {'none has' if have == 0 else 'only one has'} them"))
    n = min(len(v) for v in usable)
    x = np.array([v[:n] for v in usable])
    try:
        value = icc(x, "3,1")
    except ValueError as exc:
        return Repeatability(n_sessions=len(usable), n_reps=n, left_out=left_out,
                             reason=str(exc))
    s = sem(float(x.std(ddof=1)), value)
    return Repeatability(value, s, mdc95(s), mdc95(s, n), len(usable), n, left_out)
