"""IANA zone names a clinic may choose (app/core/timezones.py)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from app.core.timezones import is_zone, known_zones, zone


@pytest.mark.parametrize("name", ["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires"])
def test_names_the_zone_database_has_are_zones(name):
    assert is_zone(name) and zone(name) == ZoneInfo(name)


NOT_ZONES = ("", "Europe/Nowhere", "europe/berlin", "/etc/localtime", "../zoneinfo/UTC")


@pytest.mark.parametrize("name", [*NOT_ZONES, "UTC\x00", 7, None])
def test_anything_else_is_not_and_prints_in_utc(name):
    assert not is_zone(name)
    assert zone(name if isinstance(name, str) else None) == ZoneInfo("UTC")


def test_the_zone_list_is_read_once():
    assert known_zones() is known_zones() and len(known_zones()) > 300
