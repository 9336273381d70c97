"""Which ``X-Forwarded-*`` headers an app believes: only those its own proxies set.

Behind nginx (deploy/nginx/civic-idp.conf) the client's address, the scheme (https) and the public
host and port arrive in ``X-Forwarded-For``, ``-Proto``, ``-Host`` and ``-Port``. Anyone can send
those headers, so an app honours them only on a connection that comes from one of
``TRUSTED_PROXIES`` (comma-separated addresses or networks: nginx's address as the app sees it, e.g.
``127.0.0.1``); from any other peer they are removed before the app sees the request, so the
client address of rate limits and audit events, ``request.is_secure`` (Secure cookies, CSRF's
Referer check) and absolute URLs stay the connection's own. ``TRUSTED_PROXY_HOPS`` (1 once proxies
are named) is how many proxies of ours stand in a row (a load balancer in front of nginx: 2).

``APP_ENV=production`` refuses a value that would trust the Internet: an entry that is not an
address or network, a network wider than /16 (IPv4) or /48 (IPv6), hops without proxies.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
WIDEST = {4: 16, 6: 48}  # a proxy is one address or a few; a wider network is "anyone"
FORWARDED = ("HTTP_FORWARDED", "HTTP_X_REAL_IP")  # and every HTTP_X_FORWARDED_*


class ProxyConfigError(ValueError):
    pass


def trusted_networks(env: Mapping[str, str]) -> list[Network]:
    networks = []
    for entry in (part.strip() for part in env.get("TRUSTED_PROXIES", "").split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ProxyConfigError(f"TRUSTED_PROXIES: {entry!r} is not an IP address or network "
                                   "(e.g. 127.0.0.1 or 10.0.8.0/29)") from None
    return networks


def trusted_hops(env: Mapping[str, str], networks: list[Network]) -> int:
    value = env.get("TRUSTED_PROXY_HOPS", "").strip()
    if not value:
        return 1 if networks else 0
    if not value.isdigit() or not 0 <= int(value) <= 5:
        raise ProxyConfigError(f"TRUSTED_PROXY_HOPS: {value!r} is not a number of proxies from 0 to 5")
    return int(value)


def production_problems(env: Mapping[str, str]) -> list[str]:
    """What ``APP_ENV=production`` refuses, one line each (shared.config.check_production)."""
    try:
        networks = trusted_networks(env)
        hops = trusted_hops(env, networks)
    except ProxyConfigError as error:
        return [str(error)]
    problems = [f"TRUSTED_PROXIES: {network} is too wide (anyone there could forge client addresses and https); "
                f"name the proxies' addresses, at most a /{WIDEST[network.version]}"
                for network in networks if network.prefixlen < WIDEST[network.version]]
    if hops and not networks:
        problems.append("TRUSTED_PROXY_HOPS is set without TRUSTED_PROXIES: name the proxies' addresses "
                        "(X-Forwarded-* is honoured only from them)")
    return problems


class TrustedProxies:
    """WSGI middleware: ProxyFix for requests from a trusted proxy; forwarded headers removed otherwise."""

    def __init__(self, wsgi_app, networks: list[Network], hops: int):
        self.networks, self.plain = networks, wsgi_app
        self.forwarded = ProxyFix(wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops) if hops else None

    def from_a_proxy(self, peer: str | None) -> bool:
        try:
            address = ipaddress.ip_address(peer or "")
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def __call__(self, environ, start_response):
        if self.forwarded is not None and self.from_a_proxy(environ.get("REMOTE_ADDR")):
            return self.forwarded(environ, start_response)
        for key in [k for k in environ if k.startswith("HTTP_X_FORWARDED_") or k in FORWARDED]:
            del environ[key]
        return self.plain(environ, start_response)


def init_proxy(app: Flask, env: Mapping[str, str] | None = None) -> None:
    env = os.environ if env is None else env
    networks = trusted_networks(env)
    app.wsgi_app = TrustedProxies(app.wsgi_app, networks, trusted_hops(env, networks))
