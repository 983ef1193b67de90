"""`flask --app wsgi create-admin EMAIL`: the first admin, from the command line."""

from __future__ import annotations

import sqlalchemy as sa

GOOD = "a perfectly long admin password"


def invoke(app, args: list[str], **kw):
    """Run a command as `flask --app wsgi ...` does: FlaskGroup pushes an app
    context for every command; app.cli in a test runner does not for commands
    added with add_command, so push it here."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=args, **kw)


def admins(app) -> list:
    from app.auth.models import User
    from app.extensions import db

    with app.app_context():
        rows = list(db.session.scalars(sa.select(User).where(User.role == "admin")))
        db.session.expunge_all()
        return rows


def test_create_admin_from_env_then_sign_in(app, client):
    result = invoke(
        app, ["create-admin", "Boss@Example.org", "--name", "Boss"], env={"ADMIN_PASSWORD": GOOD}
    )
    assert result.exit_code == 0, result.output
    assert "boss@example.org" in result.output
    [boss] = admins(app)
    assert (boss.email, boss.name, boss.is_active) == ("boss@example.org", "Boss", True)
    assert boss.password_hash.startswith("$argon2id$") and GOOD not in boss.password_hash

    r = client.post("/api/v1/auth/token", json={"email": "boss@example.org", "password": GOOD})
    assert r.status_code == 200
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {r.json['access_token']}"})
    assert me.json["role"] == "admin"


def test_create_admin_from_prompt(app):
    result = invoke(
        app,
        ["create-admin", "prompted@example.org"],
        env={"ADMIN_PASSWORD": None},
        input=f"{GOOD}\n{GOOD}\n",
    )
    assert result.exit_code == 0, result.output
    assert GOOD not in result.output  # hidden input
    assert [a.email for a in admins(app)] == ["prompted@example.org"]


def test_short_password_is_refused(app):
    result = invoke(app, ["create-admin", "short@example.org"], env={"ADMIN_PASSWORD": "too-short"})
    assert result.exit_code != 0
    assert "12 characters" in result.output
    assert admins(app) == []


def test_duplicate_is_refused(app):
    env = {"ADMIN_PASSWORD": GOOD}
    assert invoke(app, ["create-admin", "dup@example.org"], env=env).exit_code == 0
    result = invoke(app, ["create-admin", "DUP@example.org"], env=env)
    assert result.exit_code != 0 and "exists already" in result.output
    assert len(admins(app)) == 1
