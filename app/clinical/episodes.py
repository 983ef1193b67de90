"""Healing episodes: a closure ends one, an open measurement after it starts the next.

A wound that closes and opens again has healed once and recurred; its areas
before and after are two courses of healing, and PAR, the week-4 checkpoint,
the fits and the projection read only the current one (see
docs/clinical-reference.md, "Healing episodes"). Rules (judgement: the
definitions of a closure the rest of the engine uses, applied in time order):

- A closure is an assessment that found the wound closed (``closed``), or an
  area of 0 after an open area in the same episode. An area of 0 before any
  open area (no open wound yet, e.g. intact irradiated skin) is not a closure.
- A recorded healing date closes the episode open on that day. An assessment
  on the healed date itself belongs to the episode it closes; an open one on a
  later day starts a new episode. Days are the measurements' own calendar
  dates (UTC for stored assessments).
- Assessments that find the wound still closed after a closure confirm it.
- A healed date the wound record was later reopened after (``past_closures``)
  ends its episode for good: whatever comes next starts a new one, even
  before any open measurement (the wound was reopened).

Pure functions, standard library only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from app.clinical.measurement import Measurement

BY_ASSESSMENT = "assessment"
BY_HEALED_ON = "healed_on"
BY_EARLIER_HEALING = "earlier_healing"


@dataclass(frozen=True)
class Episode:
    """One course of healing within a wound's ordered measurements.

    ``start``/``stop`` index its measurements (start == stop: none yet).
    ``closed_on``/``closed_by``: how it ended (BY_ASSESSMENT at the assessment
    ``closure``; BY_HEALED_ON, the wound's recorded healing; BY_EARLIER_HEALING,
    a healing the wound record was reopened after), None while open; a
    recorded healing is the date of closure even when an assessment (still
    ``closure``) found the wound closed before it.
    ``reopened``: the wound record was reopened after this closure.
    """

    number: int
    start: int
    stop: int
    closed_on: date | None = None
    closed_by: str | None = None
    closure: int | None = None
    reopened: bool = False


class _Split:
    """The episodes found so far, and the one being read."""

    def __init__(self) -> None:
        self.done: list[Episode] = []
        self.current = Episode(number=1, start=0, stop=0)
        self.has_open = False

    def _next(self, start: int) -> None:
        self.done.append(self.current)
        self.current = Episode(number=self.current.number + 1, start=start, stop=start)
        self.has_open = False

    def healed_date(self, on: date, current: bool, index: int) -> None:
        """A recorded healing on ``on``, read before the measurement at ``index``;
        ``current``: the wound's healing as recorded now (not reopened since).
        The record is the date of healing even when an assessment had found the
        wound closed earlier in the episode (that assessment stays ``closure``)."""
        if self.current.reopened:
            self._next(index)
        by = BY_HEALED_ON if current else BY_EARLIER_HEALING
        self.current = replace(self.current, closed_on=on, closed_by=by, reopened=not current)

    def point(self, m: Measurement, index: int) -> None:
        """The measurement at ``index`` (in order)."""
        c = self.current
        if c.closed_on is not None and (c.reopened or not m.gone):
            self._next(index)
        if not m.gone:
            self.has_open = True
        elif self.current.closed_on is None and (self.has_open or m.closed):
            self.current = replace(
                self.current, closed_on=m.at.date(), closed_by=BY_ASSESSMENT, closure=index
            )
        self.current = replace(self.current, stop=index + 1)

    def finish(self, n: int) -> list[Episode]:
        if self.current.reopened:  # reopened, no measurement since
            self._next(n)
        return [*self.done, self.current]


def closure_dates(healed_on: date | None, past_closures: Sequence[date]) -> list[tuple[date, bool]]:
    """(date, is the wound's current healing) in date order; a past date equal
    to the current one is the current one."""
    dates = {d: False for d in past_closures}
    if healed_on is not None:
        dates[healed_on] = True
    return sorted(dates.items())


def split_episodes(
    ordered: Sequence[Measurement], closures: Sequence[tuple[date, bool]]
) -> list[Episode]:
    """The episodes of measurements in order (measurement.timeline), given the
    recorded healing dates (closure_dates). Always at least one episode."""
    split = _Split()
    pending = 0
    for index, m in enumerate(ordered):
        if pending < len(closures):
            day = m.at.date()
            while pending < len(closures) and closures[pending][0] < day:
                split.healed_date(*closures[pending], index)
                pending += 1
        split.point(m, index)
    for on, current in closures[pending:]:
        split.healed_date(on, current, len(ordered))
    return split.finish(len(ordered))
