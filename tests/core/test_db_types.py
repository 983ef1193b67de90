"""UTC datetimes read back from the database."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from app.core.db import naive_as_utc


@given(st.datetimes())
def test_naive_as_utc_is_replace_tzinfo(value: datetime) -> None:
    result = naive_as_utc(value)
    assert result == value.replace(tzinfo=UTC)
    assert result.tzinfo is UTC
    assert result.replace(tzinfo=None) == value


def test_naive_as_utc_extremes() -> None:
    assert naive_as_utc(datetime.min) == datetime.min.replace(tzinfo=UTC)
    assert naive_as_utc(datetime.max) == datetime.max.replace(tzinfo=UTC)


def test_uuid_text_reads_the_canonical_form(app, clinic):
    import sqlalchemy as sa

    from app.clinics.models import Clinic
    from app.core.db import UUIDText
    from app.extensions import db

    with app.app_context():
        text, native = db.session.execute(
            sa.select(sa.type_coerce(Clinic.id, UUIDText()), Clinic.id).where(Clinic.id == clinic)
        ).one()
        none = db.session.execute(sa.select(sa.type_coerce(sa.null(), UUIDText()))).scalar()
    assert text == str(native) == str(clinic)
    assert none is None


def test_typed_null_is_a_plain_null_on_sqlite_and_a_cast_on_postgresql():
    """A UNION part without a column fills it with typed_null: PostgreSQL needs
    the type, SQLite would evaluate a CAST on every row."""
    import sqlalchemy as sa
    from sqlalchemy.dialects import postgresql, sqlite

    from app.core.db import typed_null

    stmt = sa.select(typed_null(sa.Float()).label("area"), typed_null(sa.Date()).label("day"))
    assert str(stmt.compile(dialect=sqlite.dialect())) == "SELECT NULL AS area, NULL AS day"
    on_postgresql = str(stmt.compile(dialect=postgresql.dialect()))
    assert on_postgresql == "SELECT CAST(NULL AS FLOAT) AS area, CAST(NULL AS DATE) AS day"
    # The type is part of the statement cache key: two statements that differ
    # only in it are not compiled once for both.
    assert (
        typed_null(sa.Float())._generate_cache_key() == typed_null(sa.Float())._generate_cache_key()
    )
    assert (
        typed_null(sa.Float())._generate_cache_key() != typed_null(sa.Date())._generate_cache_key()
    )
