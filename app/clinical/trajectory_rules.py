"""The statuses a healing trajectory can have and the thresholds it is judged by.

Every default and its source is in TrajectoryRules' docstring and in
docs/clinical-reference.md, "Healing trajectory". Pure, standard library only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

HEALED = "healed"
ON_TRACK = "on_track"
STALLED = "stalled"
DETERIORATING = "deteriorating"
RECURRED = "recurred"
INSUFFICIENT_DATA = "insufficient_data"
STATUSES: tuple[str, ...] = (HEALED, ON_TRACK, STALLED, DETERIORATING, RECURRED, INSUFFICIENT_DATA)

PAR_SOURCE = "configurable; Sheehan 2003 / Phillips 2000 adapted"


@dataclass(frozen=True)
class TrajectoryRules:
    """Thresholds for compute_trajectory; every default and its source.

    - par_threshold_pct 40.0 and par_week 4: the week-4 checkpoint is met when
      PAR at week 4 is at least 40%. Adapted from Sheehan 2003 (4-week PAR,
      DFU midpoint 53%) and Phillips 2000 (>= 40% by week 3, venous ulcers);
      no threshold is published for radiation wounds, so this is configurable.
    - week_window_days 7: the checkpoint interpolates between the assessments
      either side of day 28; when the nearer is more than 7 days away it says
      so. One week is the usual assessment interval (judgement).
    - deteriorating_margin_pct 10.0: area at least 10% above baseline, or at
      least 10% above the previous assessment, is deteriorating. Judgement: it
      exceeds the typical repeat-measurement error of ruler/tracing methods
      (around 5-10%), so noise alone rarely triggers it.
    - recent_window_days 28: once the checkpoint is due, the status follows
      the change over the last 28 days: on track when the area fell at least
      at the pace of the week-4 threshold (40% over 28 days by default;
      app/clinical/progress.py), else stalled. Judgement: it re-applies the
      week-4 rule to the latest four weeks, so a wound that missed the
      checkpoint and then healed is on track again, and one that met it and
      then stopped is stalled.
    - min_points_for_projection 5 and min_days_for_projection 28: closure
      projections are unreliable before about five weekly measurements
      (Cukjati 2001); five weekly measurements span four weeks, so five taken
      on consecutive days do not count as them.
    - max_projection_days 365: a closure date more than a year past the latest
      assessment is not given: extrapolating weeks of data that far means
      nothing (judgement); the note says the trend is too flat instead.
    - min_days_for_trend 7: before week 4, a trend is read only after at least
      one week of follow-up (judgement: one assessment interval).
    """

    par_threshold_pct: float = 40.0
    par_week: int = 4
    week_window_days: int = 7
    deteriorating_margin_pct: float = 10.0
    min_points_for_projection: int = 5
    min_days_for_projection: int = 28
    max_projection_days: int = 365
    min_days_for_trend: int = 7
    recent_window_days: int = 28

    def __post_init__(self) -> None:
        if not 0 < self.par_threshold_pct <= 100:
            raise ValueError("par_threshold_pct must be in (0, 100]")
        if self.par_week < 1:
            raise ValueError("par_week must be at least 1")
        if self.week_window_days < 0:
            raise ValueError("week_window_days must be 0 or more")
        if self.deteriorating_margin_pct < 0:
            raise ValueError("deteriorating_margin_pct must be 0 or more")
        if self.min_points_for_projection < 2:
            raise ValueError("min_points_for_projection must be at least 2")
        if self.min_days_for_projection < 0:
            raise ValueError("min_days_for_projection must be 0 or more")
        if self.max_projection_days < 1:
            raise ValueError("max_projection_days must be at least 1")
        if self.min_days_for_trend < 1:
            raise ValueError("min_days_for_trend must be at least 1")
        if self.recent_window_days < 1:
            raise ValueError("recent_window_days must be at least 1")

    @property
    def par_day(self) -> int:
        """The day PAR is judged on (par_week x 7)."""
        return self.par_week * 7

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)
