"""Alerts follow the writes that change a wound's state, in the same transaction.

Wounds, assessments and therapy sit below alerts and never import them. A
flush listener notes which wounds (assessments, grade overrides, the wound
itself) and which patients (lab results, systemic therapy) a transaction
changed; just before it commits, the alert rules are evaluated for them and the
alerts and their outbox rows are flushed into the same transaction. After the
commit, delivery of any new webhook message is started. create_app registers
this (``_register_cross_layer_hooks``).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.alerts import evaluate, outbox
from app.assessments.models import Assessment, GradeOverride
from app.therapy.models import LabResult, SystemicTherapy
from app.wounds.models import Wound

_WOUNDS = "alerts.wounds"
_PATIENTS = "alerts.patients"
# Assessments this transaction created (id -> object), and the wounds whose
# grade overrides it changed: a created assessment without an override is read
# from memory when it is its wound's latest.
_CREATED = "alerts.created"
_OVERRIDDEN = "alerts.overridden"


def _collect(session: Session, flush_context: Any) -> None:
    """after_flush: remember what this flush changed (new, dirty and deleted
    still list what was flushed)."""
    info = session.info
    for obj in session.new:
        if isinstance(obj, Assessment):
            info.setdefault(_CREATED, {})[obj.id] = obj
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Assessment):
            info.setdefault(_WOUNDS, set()).add(obj.wound_id)
        elif isinstance(obj, GradeOverride):
            info.setdefault(_WOUNDS, set()).add(obj.wound_id)
            info.setdefault(_OVERRIDDEN, set()).add(obj.wound_id)
        elif isinstance(obj, Wound):
            info.setdefault(_WOUNDS, set()).add(obj.id)
        elif isinstance(obj, LabResult | SystemicTherapy):
            info.setdefault(_PATIENTS, set()).add(obj.patient_id)


def _created(session: Session) -> dict[Any, Any]:
    """The created assessments whose wound's overrides this transaction did
    not touch (pops both keys)."""
    created: dict[Any, Any] = session.info.pop(_CREATED, None) or {}
    overridden = session.info.pop(_OVERRIDDEN, None)
    if overridden:
        created = {k: a for k, a in created.items() if a.wound_id not in overridden}
    return created


def _evaluate(session: Session) -> None:
    """before_commit: evaluate the rules for what the transaction changed.
    (The commit's own flush comes after this hook: flush first, so that what
    it writes is seen too.) Not when a savepoint is released: SQLAlchemy sends
    before_commit and after_commit for those as well."""
    if session.in_nested_transaction():
        return
    if session.new or session.dirty or session.deleted:
        session.flush()
    wounds = session.info.pop(_WOUNDS, None)
    patients = session.info.pop(_PATIENTS, None)
    created = _created(session)
    if not (wounds or patients) or not has_app_context() or not evaluate.enabled():
        return
    if wounds:
        evaluate.evaluate_wounds(session, wounds, created=created)
    if patients:
        evaluate.evaluate_labs(session, patients)
    session.flush()


def _forget(session: Session, previous_transaction: Any) -> None:
    """after_soft_rollback of the whole transaction: nothing of it happened."""
    if previous_transaction.nested:
        return
    for key in (_WOUNDS, _PATIENTS, _CREATED, _OVERRIDDEN, outbox.PENDING):
        session.info.pop(key, None)


def _deliver(session: Session) -> None:
    """after_commit: start delivering the messages this transaction queued
    (once the whole transaction committed, not a savepoint of it)."""
    if session.in_nested_transaction():
        return
    if session.info.pop(outbox.PENDING, None) and has_app_context():
        from app.alerts import delivery

        delivery.kick(current_app._get_current_object())  # type: ignore[attr-defined]


_registered = False


def follow_writes() -> None:
    """Listen on every session (idempotent: create_app may run many times)."""
    global _registered
    if _registered:
        return
    event.listen(Session, "after_flush", _collect)
    event.listen(Session, "before_commit", _evaluate)
    event.listen(Session, "after_commit", _deliver)
    event.listen(Session, "after_soft_rollback", _forget)
    _registered = True
