"""How the clinic pages print values: codes as words, dates, times and numbers.

Times are stored and served by the API in UTC; the pages print them in the
clinic's own time zone (``Clinic.timezone``), with the zone's abbreviation, so
a visit entered at 09:30+01:00 reads "09:30 CET" in a Berlin clinic. The
templates reach these through the blueprint's context processor
(app/web/blueprint.py) as ``label``, ``fmt_date``, ``fmt_dt`` and ``fmt_num``,
bound to the page's zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from typing import Any

# Export formats by their names on the pages (codes stay in the API and the files).
FORMAT_NAMES = {
    "csv": "CSV with data dictionary",
    "parquet": "Apache Parquet",
    "fhir_ndjson": "FHIR R4 NDJSON",
}


def label(value: Any) -> str:
    """snake_case codes as words ("on_track" -> "on track")."""
    if value is None:
        return "—"
    return str(value).replace("_", " ")


def format_name(code: str) -> str:
    """An export format's readable name ("fhir_ndjson" -> "FHIR R4 NDJSON")."""
    return FORMAT_NAMES.get(code, label(code))


def _moment(value: Any) -> datetime | None:
    """A datetime from a datetime or an ISO string with a time (naive = UTC);
    None for a plain date or a date-only string."""
    if isinstance(value, str) and len(value) > 10:
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return None


def fmt_date(value: Any, zone: tzinfo = UTC) -> str:
    """A date; for a moment (datetime or ISO string with a time), its date in ``zone``."""
    if value in (None, ""):
        return "—"
    moment = _moment(value)
    if moment is not None:
        return moment.astimezone(zone).date().isoformat()
    if isinstance(value, str):
        return value[:10]
    return value.isoformat() if isinstance(value, date) else str(value)


def fmt_dt(value: Any, zone: tzinfo = UTC) -> str:
    """A moment in ``zone`` to the minute, with the zone's abbreviation
    ("2026-01-05 09:30 CET"); naive datetimes are taken as UTC."""
    if value in (None, ""):
        return "—"
    moment = _moment(value)
    if moment is None:
        return fmt_date(value, zone)
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def fmt_num(value: Any, digits: int = 1) -> str:
    """A number with a fixed count of decimals."""
    if value is None:
        return "—"
    return f"{float(value):.{digits}f}"
