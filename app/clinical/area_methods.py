"""Comparing areas measured by different methods.

An ellipse estimate from a ruler's length and width and an outline traced on a
photo measure the same wound differently: ruler estimates overstate planimetry
(by 41% on average for L x W, Rogers 2010; less for the ellipse pi/4 L W, which
still overstates irregular wounds). A change computed from a baseline of one
method to a latest area of the other mixes the method's bias into the change.
So a change (PAR) is computed on one method where every assessment it reads
has an area by that method: the first of AREA_METHODS (traced, measured,
ellipse) they all have. Where they have none in common the areas in use are
compared and the answer says the methods differ (judgement: the least biased
common method, else the data as they are, flagged). Pure, standard library only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter

from app.clinical.measurement import AREA_METHODS, Measurement

_AREA = attrgetter("area_cm2")


@dataclass(slots=True)
class Comparison:
    """Areas of some measurements on one method (a value: not changed once made).

    ``areas``: one per measurement; ``method``: the method they are all by
    (None when unknown, or when they have none in common: then the areas in
    use); ``methods``: the method in use at each measurement; ``mixed``: the
    open areas among them were not all taken by one method.
    """

    areas: list[float]
    method: str | None
    methods: tuple[str | None, ...]
    mixed: bool = False


def _on(m: Measurement, method: str) -> float | None:
    """The area of ``m`` by ``method``: 0 for a closure (0 by any method), None
    when the method gave no positive area (a length of 0 is no measurement)."""
    if m.area_cm2 == 0:
        return 0.0
    area = m.area_by(method)
    return area if area is not None and area > 0 else None


def compare(points: Sequence[Measurement]) -> Comparison:
    """The areas of ``points`` on one method (see the module docstring).

    All by the same method in use (the usual case): their areas in use. Areas
    of 0 (closures) are 0 by any method and do not make a comparison mixed.
    """
    first = points[0].method
    for m in points:
        if m.method != first:
            break
    else:  # the usual case, kept short (no comprehension): this runs three times per wound
        return Comparison(list(map(_AREA, points)), first, (first,) * len(points))
    methods = tuple(m.method for m in points)
    used = {m.method for m in points if m.area_cm2 > 0}
    if len(used) < 2:
        return Comparison([m.area_cm2 for m in points], used.pop() if used else None, methods)
    for method in AREA_METHODS:
        areas = [_on(m, method) for m in points]
        if None not in areas:
            return Comparison([a for a in areas if a is not None], method, methods, mixed=True)
    return Comparison([m.area_cm2 for m in points], None, methods, mixed=True)


def describe(c: Comparison, what: str) -> str | None:
    """A reason saying the areas ``what`` compares (e.g. "PAR") were taken by
    different methods and how they were compared; None when they were not."""
    if not c.mixed:
        return None
    shown = " -> ".join(m or "unknown" for m in c.methods)
    if c.method is None:
        return (
            f"{what} compares areas taken by different methods ({shown}) with no method"
            " common to them: the change includes the difference between the methods"
        )
    return (
        f"{what} compares areas taken by different methods ({shown}):"
        f" computed on the {c.method} area of each"
    )
