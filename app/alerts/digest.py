"""The e-mail digest: each subscribed user gets one message per clinic with
the counts of its open alerts by kind and a link to the inbox. Counts and
links only: no names, MRNs, wounds or free text."""

from __future__ import annotations

import smtplib
from collections import Counter
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from app.alerts.models import Alert, DigestSubscription
from app.auth.models import ClinicMembership, User
from app.clinical.alerts import KINDS
from app.clinics.models import Clinic

_LABELS = {
    "week4_missed": "week-4 checkpoint missed",
    "deteriorating": "deteriorating",
    "recurrence": "recurred after closure",
    "grade": "CTCAE grade 3 or more",
    "overdue": "assessment overdue",
    "lab": "lab grade 3 or more during systemic therapy",
    "infection": "signs of infection",
}


def compose(
    clinic_name: str, counts: Counter[str], link: str, sender: str, to: str
) -> EmailMessage:
    total = sum(counts.values())
    lines = [f"{clinic_name}: {total} open alert(s).", ""]
    lines += [f"  {counts[k]:4d}  {_LABELS[k]}" for k in KINDS if counts[k]]
    lines += ["", f"Open the inbox: {link}", "", "WoundTrack"]
    msg = EmailMessage()
    msg["Subject"] = f"WoundTrack: {total} open alert(s) at {clinic_name}"
    msg["From"] = sender
    msg["To"] = to
    msg.set_content("\n".join(lines))
    return msg


def _smtp(url: str) -> smtplib.SMTP:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("SMTP_URL must be smtp://host:port or smtps://host:port")
    host = parts.hostname or "localhost"
    if parts.scheme == "smtps":
        server: smtplib.SMTP = smtplib.SMTP_SSL(host, parts.port or 465, timeout=30)
    else:
        server = smtplib.SMTP(host, parts.port or 25, timeout=30)
        if "starttls=1" in parts.query:
            server.starttls()
    if parts.username:
        server.login(unquote(parts.username), unquote(parts.password or ""))
    return server


def send_digest(app: Flask, session: Session) -> int:
    """Send the digest to every active subscriber with open alerts in the
    clinic; returns how many e-mails were sent."""
    url = app.config.get("SMTP_URL")
    if not url:
        raise RuntimeError("SMTP_URL is not set")
    base = str(app.config.get("APP_BASE_URL") or "http://localhost:5000").rstrip("/")
    sender = str(app.config.get("MAIL_FROM") or "woundtrack@localhost")
    rows = session.execute(
        sa.select(User.email, Clinic.id, Clinic.name)
        .join(DigestSubscription, DigestSubscription.user_id == User.id)
        .join(Clinic, Clinic.id == DigestSubscription.clinic_id)
        .where(
            DigestSubscription.ended_at.is_(None),
            User.is_active.is_(True),
            # still allowed to read the clinic's alerts
            User.role.in_(("admin", "clinic_admin", "clinician", "nurse")),
            sa.or_(
                User.role == "admin",
                sa.exists().where(
                    ClinicMembership.user_id == User.id, ClinicMembership.clinic_id == Clinic.id
                ),
            ),
        )
        .order_by(Clinic.name, User.email)
    ).all()
    counts: dict[Any, Counter[str]] = {}
    sent = 0
    server = _smtp(url)
    try:
        for email, clinic_id, clinic_name in rows:
            if clinic_id not in counts:
                counts[clinic_id] = Counter(
                    dict(
                        session.execute(
                            sa.select(Alert.kind, sa.func.count())
                            .where(Alert.clinic_id == clinic_id, Alert.status == "open")
                            .group_by(Alert.kind)
                        ).all()
                    )
                )
            if not counts[clinic_id]:
                continue
            link = f"{base}/web/alerts"
            server.send_message(compose(clinic_name, counts[clinic_id], link, sender, email))
            sent += 1
    finally:
        server.quit()
    return sent
