"""Behind reverse proxies: the client address of rate limits and the audit
trail comes from X-Forwarded-For only as TRUSTED_PROXIES allows."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from app.core.audit import AuditEvent
from app.core.proxies import hops, parse_setting
from tests.factories import PASSWORD

TOKEN = "/api/v1/auth/token"
PROXY = "10.0.0.5"
WRONG = "wrong password"


@pytest.fixture
def trusted(app) -> Iterator:
    """Set TRUSTED_PROXIES for one test (and small limits: 2 per account, 3 per address)."""
    from app.extensions import limiter

    keys = ("TRUSTED_PROXIES", "LOGIN_RATE_LIMIT", "LOGIN_ADDRESS_RATE_LIMIT")
    saved = {key: app.config[key] for key in keys}
    app.config.update(LOGIN_RATE_LIMIT="2 per minute", LOGIN_ADDRESS_RATE_LIMIT="3 per minute")
    limiter.reset()

    def set_to(value) -> None:
        app.config["TRUSTED_PROXIES"] = value

    yield set_to
    app.config.update(saved)
    limiter.reset()


def sign_in(client, email: str, forwarded_for: str | None, password: str = WRONG):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else {}
    return client.post(
        TOKEN,
        json={"email": email, "password": password},
        headers=headers,
        environ_base={"REMOTE_ADDR": PROXY},
    )


def failure_addresses(app) -> list[str | None]:
    from app.extensions import db

    with app.app_context():
        stmt = sa.select(AuditEvent.client_addr).where(AuditEvent.outcome == "failure")
        return list(db.session.scalars(stmt.order_by(AuditEvent.at)))


def test_without_setting_x_forwarded_for_is_ignored(app, client, trusted, nurse):
    trusted("")
    for i in range(3):
        assert sign_in(client, f"u{i}@example.org", f"198.51.100.{i}").status_code == 401
    # Whatever each claims, all came from the proxy: one address, one bucket.
    assert sign_in(client, nurse.email, "198.51.100.77", PASSWORD).status_code == 429
    assert failure_addresses(app) == [PROXY] * 3


def test_one_proxy_counted_the_client_is_the_last_entry(app, client, trusted, nurse):
    trusted("1")
    attacker = "203.0.113.9"
    for i in range(3):
        # The attacker's own X-Forwarded-For entry comes first; the proxy appends the real one.
        assert sign_in(client, f"u{i}@example.org", f"192.0.2.{i}, {attacker}").status_code == 401
    assert sign_in(client, "u9@example.org", f"192.0.2.50, {attacker}").status_code == 429
    # Another client behind the same proxy is not locked out by the attacker.
    r = sign_in(client, nurse.email, "198.51.100.7", PASSWORD)
    assert r.status_code == 200, r.json
    assert failure_addresses(app) == [attacker] * 3


def test_two_proxies_counted(app, client, trusted):
    trusted(2)
    assert sign_in(client, "a@example.org", "1.2.3.4, 198.51.100.8, 10.0.0.9").status_code == 401
    assert failure_addresses(app) == ["198.51.100.8"]


def test_listed_proxies_are_believed_and_skipped(app, client, trusted):
    trusted("10.0.0.0/24, 172.16.0.1")
    # Client -> 172.16.0.1 (appends the client) -> 10.0.0.5 (appends 172.16.0.1) -> app.
    assert sign_in(client, "a@example.org", "203.0.113.60, 172.16.0.1").status_code == 401
    assert failure_addresses(app) == ["203.0.113.60"]


def test_listed_proxies_from_an_unlisted_peer_are_ignored(app, client, trusted):
    trusted("172.16.0.0/12")  # the peer (10.0.0.5) is not in it
    assert sign_in(client, "a@example.org", "203.0.113.61").status_code == 401
    assert failure_addresses(app) == [PROXY]


@pytest.mark.parametrize(
    ("setting", "peer", "forwarded", "expected"),
    [
        (None, "10.0.0.5", "1.1.1.1", 0),
        (3, "10.0.0.5", "", 3),
        ((ipaddress.ip_network("10.0.0.0/8"),), "192.0.2.1", "1.1.1.1", 0),
        ((ipaddress.ip_network("10.0.0.0/8"),), "10.0.0.5", "", 1),
        ((ipaddress.ip_network("10.0.0.0/8"),), "10.0.0.5", "1.1.1.1", 1),
        ((ipaddress.ip_network("10.0.0.0/8"),), "10.0.0.5", "1.1.1.1, 10.0.0.7", 2),
        # Every entry trusted: the leftmost is the client.
        ((ipaddress.ip_network("10.0.0.0/8"),), "10.0.0.5", "10.0.0.8, 10.0.0.7", 2),
        # Not an address: not a trusted proxy.
        ((ipaddress.ip_network("10.0.0.0/8"),), "10.0.0.5", "1.1.1.1, junk", 1),
        ((ipaddress.ip_network("10.0.0.0/8"),), "not-an-ip", "1.1.1.1", 0),
    ],
)
def test_hops(setting, peer, forwarded, expected):
    environ = {"REMOTE_ADDR": peer, "HTTP_X_FORWARDED_FOR": forwarded}
    assert hops(setting, environ) == expected


def test_settings_are_parsed_or_refused():
    assert parse_setting("") is None
    assert parse_setting(" 0 ") is None
    assert parse_setting("2") == 2
    assert parse_setting("10.0.0.5, 2001:db8::/32") == (
        ipaddress.ip_network("10.0.0.5"),
        ipaddress.ip_network("2001:db8::/32"),
    )
    with pytest.raises(ValueError, match=r"TRUSTED_PROXIES: .* does not appear"):
        parse_setting("nginx")


def test_a_malformed_setting_stops_the_app_at_start(tmp_path):
    from app import create_app

    with pytest.raises(ValueError, match=r"TRUSTED_PROXIES: .* does not appear"):
        create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
                "STORAGE_DIR": str(tmp_path),
                "STORAGE_URL": None,
                "TRUSTED_PROXIES": "proxy.internal",
            }
        )
