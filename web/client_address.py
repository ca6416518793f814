"""Who is on the other end: the client address that request budgets, the access log and
the audit trail use.

The address is the TCP peer's. Only when the peer is a proxy the operator named in
`CHAINGATE_TRUSTED_PROXIES` (comma-separated IPs or CIDR networks) is `X-Forwarded-For`
read, right to left, up to the first address that is not a trusted proxy (uvicorn's
ProxyHeadersMiddleware, wrapped around the whole app). Empty, the default, trusts no
proxy: any client can write `X-Forwarded-For` or `Forwarded`, and a header that picks its
own rate-limit key is a way around the budgets. `Forwarded` (RFC 7239) is never read.

`chaingate serve` turns uvicorn's own proxy-header handling off: by default it trusts
`X-Forwarded-For` from 127.0.0.1, which made every loopback client (a sidecar, a local
script, another tenant's process) choose its address.
"""

from __future__ import annotations

import ipaddress

from starlette.middleware import Middleware
from starlette.types import Scope
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_proxies(setting: str) -> tuple[Network, ...]:
    """The networks of `CHAINGATE_TRUSTED_PROXIES` ("10.0.0.5, 172.16.0.0/12, ::1"); a
    single address is its own /32 or /128. Raises ValueError naming a bad entry, so a
    typo stops the server at start instead of silently trusting nothing (or too much)."""
    networks: list[Network] = []
    for entry in (part.strip() for part in setting.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise ValueError(
                f"CHAINGATE_TRUSTED_PROXIES: {entry!r} is not an IP address or network (e.g. 10.0.0.5, 10.0.0.0/8)"
            ) from exc
    return tuple(networks)


def proxy_middleware(setting: str) -> list[Middleware]:
    """The outermost middleware of the app: the client read from `X-Forwarded-For` when
    the peer is a trusted proxy; nothing when no proxy is named."""
    networks = trusted_proxies(setting)
    if not networks:
        return []
    return [Middleware(ProxyHeadersMiddleware, trusted_hosts=[str(n) for n in networks])]


def client_address(scope: Scope) -> str | None:
    """The client's IP as decided above (None when the server knows no peer, e.g. a unix socket)."""
    client = scope.get("client")
    return str(client[0]) if client else None
