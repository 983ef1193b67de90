"""IANA time zones: which names a clinic may choose, and the zone of a name.

The service stores and answers in UTC; a clinic's zone decides how the
clinic pages print times and which calendar day "today" is when days since an
assessment are counted (the dashboard, the overdue rule). Names are checked
against the zones this machine knows (the system database, else the pinned
``tzdata`` package), so a zone that was accepted can always be loaded.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

DEFAULT_ZONE = "UTC"
MAX_ZONE_LENGTH = 64


@lru_cache(maxsize=1)
def known_zones() -> frozenset[str]:
    """Every IANA zone name this machine can load (read once: it walks the database)."""
    return frozenset(available_timezones())


def is_zone(name: object) -> bool:
    """Whether ``name`` is an IANA zone name this machine can load."""
    return isinstance(name, str) and 0 < len(name) <= MAX_ZONE_LENGTH and name in known_zones()


def zone(name: str | None) -> ZoneInfo:
    """The zone called ``name``; UTC for None or a name this machine does not know
    (a page must still print, in the zone the service answers in)."""
    return ZoneInfo(name if name is not None and is_zone(name) else DEFAULT_ZONE)


def local_date(moment: datetime, name: str | None) -> date:
    """The calendar day ``moment`` (aware) falls on in the zone called ``name``:
    what a clinic means by "today" and by the day of an assessment, so that
    "days since the last assessment" and overdue counts turn over at the
    clinic's midnight, not at UTC's."""
    return moment.astimezone(zone(name)).date()
