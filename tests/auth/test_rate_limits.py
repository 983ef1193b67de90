"""Sign-in attempts are limited per account and, with a higher limit, per
client address (app/auth/limits.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.factories import PASSWORD

TOKEN = "/api/v1/auth/token"


@pytest.fixture
def three_per_minute(app) -> Iterator[None]:
    """3 attempts a minute per account, 6 per address."""
    from app.extensions import limiter

    keys = ("LOGIN_RATE_LIMIT", "LOGIN_ADDRESS_RATE_LIMIT")
    saved = {key: app.config[key] for key in keys}
    app.config.update(LOGIN_RATE_LIMIT="3 per minute", LOGIN_ADDRESS_RATE_LIMIT="6 per minute")
    limiter.reset()
    yield
    app.config.update(saved)
    limiter.reset()


WRONG = "wrong password"


def attempt(client, email: str, password: str = WRONG, addr: str = "203.0.113.1"):
    return client.post(
        TOKEN,
        json={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": addr},
    )


def assert_limited(r) -> None:
    assert r.status_code == 429, r.json
    assert r.mimetype == "application/problem+json"
    assert {"type", "title", "status", "detail"} <= set(r.json) and r.json["status"] == 429
    assert int(r.headers["Retry-After"]) > 0


def test_per_account_limit_across_addresses(client, nurse, three_per_minute):
    # Spread over many addresses (a botnet), one account still gets only 3 tries.
    for i in range(3):
        assert attempt(client, nurse.email, addr=f"198.51.100.{i}").status_code == 401
    r = attempt(client, nurse.email, PASSWORD, addr="198.51.100.99")
    assert_limited(r)  # even the right password waits: no oracle for the attacker
    # Email case does not give a fresh budget.
    assert_limited(attempt(client, nurse.email.upper(), addr="198.51.100.98"))
    # Another account from a fresh address is not affected.
    assert attempt(client, "someone-else@example.org", addr="198.51.100.50").status_code == 401


def test_per_address_limit_across_accounts(client, nurse, three_per_minute):
    # One address spraying passwords over many accounts.
    for i in range(6):
        assert attempt(client, f"user{i}@example.org").status_code == 401
    assert_limited(attempt(client, nurse.email, PASSWORD))
    # Another address can still sign the nurse in.
    r = attempt(client, nurse.email, PASSWORD, addr="192.0.2.7")
    assert r.status_code == 200


def test_wrong_passwords_on_one_account_do_not_lock_out_another(
    client, nurse, clinician, three_per_minute
):
    # A clinic shares one address. Someone guesses (or mistypes) the nurse's
    # password until the nurse's account is limited...
    clinic_network = "203.0.113.40"
    for _ in range(3):
        assert attempt(client, nurse.email, addr=clinic_network).status_code == 401
    assert_limited(attempt(client, nurse.email, PASSWORD, addr=clinic_network))
    assert_limited(attempt(client, nurse.email, PASSWORD, addr="192.0.2.99"))
    # ... and the clinician at the next desk still signs in.
    r = attempt(client, clinician.email, PASSWORD, addr=clinic_network)
    assert r.status_code == 200, r.json


def test_limit_resets(client, nurse, three_per_minute):
    from app.extensions import limiter

    for _ in range(3):
        attempt(client, nurse.email)
    assert_limited(attempt(client, nurse.email))
    limiter.reset()
    assert attempt(client, nurse.email, PASSWORD).status_code == 200
