"""The rate limits on password guesses: two buckets, shared by every way in.

- per account (``LOGIN_RATE_LIMIT``, 10 a minute): attempts on one account from
  any address, so a botnet gets no more guesses than one machine. Keyed by the
  account alone: another account is never slowed by it.
- per client address (``LOGIN_ADDRESS_RATE_LIMIT``, 60 a minute): attempts from
  one address on any account (password spraying). Higher than the account
  limit, because a clinic's staff share one address (NAT): a user who mistypes,
  or an attacker guessing one account, must not lock out the others signing in
  from the same network. Behind a reverse proxy the address is the client's
  only with ``TRUSTED_PROXIES`` set (app/core/proxies.py).

Sign-in (API and clinic pages), password change and reset count in the same
buckets: each is a way to try a password or a token. Beyond a limit the
answer is 429 with Retry-After. With Redis the counts are shared by all
instances.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app
from flask_limiter.util import get_remote_address

from app.extensions import limiter

# flask-limiter names a route's bucket "<endpoint>:<scope>"; the API sign-in's
# names are kept, so counts survive a deploy of this module.
SCOPE = "auth.TokenResource"


def account_key(email: Any) -> str:
    """The account bucket of ``email`` (case and spaces do not give a fresh budget)."""
    return f"login-account:{str(email or '').strip().lower()[:254]}"


def _account_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def _address_limit() -> str:
    return str(current_app.config["LOGIN_ADDRESS_RATE_LIMIT"])


def per_address() -> Any:
    """Decorator: the per-address bucket."""
    return limiter.shared_limit(
        _address_limit, SCOPE + ":login-address", key_func=get_remote_address
    )


def per_account(key_func: Callable[[], str]) -> Any:
    """Decorator: the per-account bucket, ``key_func`` naming the account
    (``account_key`` of an email)."""
    return limiter.shared_limit(_account_limit, SCOPE + ":login-account", key_func=key_func)
