"""The client's address behind reverse proxies (``TRUSTED_PROXIES``).

The rate limits (flask-limiter's ``get_remote_address``) and the audit trail
read ``request.remote_addr``; this decides what it holds:

- unset (the default): the peer of the connection. X-Forwarded-For is
  ignored, so a client cannot choose its own address.
- a number *n*: *n* proxies stand in front of the app and each appends the
  address it received the request from to X-Forwarded-For, so the *n*-th entry
  from the right is the client (Werkzeug's ProxyFix with ``x_for=n``). Only
  when nothing but those proxies can reach the app: anyone connecting to it
  directly could name any address.
- a list of addresses or networks (``10.0.0.5, 10.1.0.0/16``): X-Forwarded-For
  is read only when the peer is one of them; walking it from the right, trusted
  proxies are skipped and the first other entry is the client (ProxyFix with
  as many hops as that took). A request from anyone else keeps its peer address.

The setting is read on every request, so it can change with the app's config.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable
from typing import Any

from flask import Flask
from werkzeug.http import parse_list_header
from werkzeug.middleware.proxy_fix import ProxyFix

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Trust = int | tuple[Network, ...] | None


@functools.lru_cache(maxsize=8)
def parse_setting(setting: str) -> Trust:
    """``""`` -> None, ``"2"`` -> 2, ``"10.0.0.5, 10.1.0.0/16"`` -> networks.
    Anything else raises ValueError (at start-up: init_app parses it once)."""
    setting = setting.strip()
    if not setting:
        return None
    if setting.isdigit():
        return int(setting) or None
    try:
        return tuple(ipaddress.ip_network(p.strip()) for p in setting.split(",") if p.strip())
    except ValueError as exc:
        raise ValueError(f"TRUSTED_PROXIES: {exc} (a count, or addresses and networks)") from exc


def _setting_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    return ",".join(str(v) for v in value)


def _trusted(address: str | None, networks: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def hops(trust: Trust, environ: dict[str, Any]) -> int:
    """How many X-Forwarded-For entries, from the right, to look past (0: none)."""
    if trust is None or isinstance(trust, int):
        return trust or 0
    if not _trusted(environ.get("REMOTE_ADDR"), trust):
        return 0
    values = parse_list_header(environ.get("HTTP_X_FORWARDED_FOR", ""))
    count = 1
    while count < len(values) and _trusted(values[-count], trust):
        count += 1
    return count


class TrustedProxies:
    """WSGI middleware: ProxyFix for X-Forwarded-For, as TRUSTED_PROXIES says."""

    def __init__(self, app: Flask) -> None:
        self.config = app.config
        self.wsgi_app = app.wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        trust = parse_setting(_setting_text(self.config.get("TRUSTED_PROXIES")))
        count = hops(trust, environ)
        if not count:
            return self.wsgi_app(environ, start_response)
        # Only the address: scheme and host stay what the connection says.
        fix = ProxyFix(self.wsgi_app, x_for=count, x_proto=0, x_host=0, x_port=0, x_prefix=0)
        return fix(environ, start_response)


def init_app(app: Flask) -> None:
    parse_setting(_setting_text(app.config.get("TRUSTED_PROXIES")))  # fail at start if malformed
    app.wsgi_app = TrustedProxies(app)  # type: ignore[method-assign]
