"""Two instances evaluating the same change open one alert (PostgreSQL: the
unique partial index makes the second INSERT wait for the first transaction,
then fail inside its savepoint)."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.alerts.conftest import post
from tests.alerts.test_alerts_api import GRADE3


def test_two_concurrent_evaluations_open_one_alert(app, nurse, wound, monkeypatch):
    from app.alerts import evaluate
    from app.alerts.models import Alert, WebhookMessage
    from app.extensions import db

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("needs two concurrent writers: PostgreSQL")
    app.config["ALERTS_ENABLED"] = False
    try:
        post(nurse, wound, 1, **GRADE3)  # the write, without its evaluation
    finally:
        app.config["ALERTS_ENABLED"] = True

    looked = threading.Event()
    real_wounds = evaluate._wounds

    def wounds_then_signal(session, ids):
        found = real_wounds(session, ids)
        if threading.current_thread().name == "second":
            looked.set()
        return found

    monkeypatch.setattr(evaluate, "_wounds", wounds_then_signal)
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with app.app_context(), Session(db.engine) as s2:
                evaluate.evaluate_wounds(s2, [wound])
                s2.commit()
        except BaseException as exc:
            errors.append(exc)
            looked.set()

    with app.app_context(), Session(db.engine) as s1:
        evaluate.evaluate_wounds(s1, [wound])
        s1.flush()  # the INSERT is made: the second writer will wait on it
        thread = threading.Thread(target=second, name="second")
        thread.start()
        assert looked.wait(30)
        time.sleep(0.3)  # let the second reach its INSERT (the outcome holds either way)
        s1.commit()
    thread.join(30)
    assert not errors, errors
    with app.app_context():
        rows = db.session.scalars(sa.select(Alert).where(Alert.wound_id == wound)).all()
        assert [(a.kind, a.status) for a in rows] == [("grade", "open")]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookMessage)) == 0
