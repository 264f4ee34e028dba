"""Which URLs a webhook may be sent to: pure rules (no Django), applied when an endpoint is
saved (the URL's shape) and again just before each send (where its host name resolves).

A tenant types the URL and our worker posts to it, so an unchecked URL would let a tenant
make our servers call into their own network (the database, Redis, a cloud metadata service).
In production (`allow_local` off) only https to public addresses is allowed. In development
and the tests (`allow_local` on, the default with DEBUG) private addresses are allowed too,
and plain http to this machine (127.0.0.1, ::1, localhost) for a local receiver.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _is_loopback(host: str) -> bool:
    address = _address(host)
    return host.lower() in LOOPBACK_NAMES or (address is not None and address.is_loopback)


def webhook_url_problem(url: str, *, allow_local: bool) -> str | None:
    """Why the URL may not receive webhooks, or None when it may (its shape only)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018  (a port out of range raises here)
    except ValueError:
        return "Enter a valid URL."
    if parts.scheme not in ("http", "https") or not host:
        return "Enter an https:// URL."
    if parts.scheme == "http" and not (allow_local and _is_loopback(host)):
        return "Use https: a plain http URL is only allowed to this machine in development."
    if allow_local:
        return None
    address = _address(host)
    if host.lower() in LOOPBACK_NAMES or (address is not None and not address.is_global):
        return "Use a public address: private, loopback and link-local networks are refused."
    return None


def webhook_host_problem(url: str, *, allow_local: bool) -> str | None:
    """Why a send to this URL is refused now, after resolving its host; None when allowed.

    Checked before every send, since a public name can be pointed at a private address after
    the endpoint was saved. (The HTTP client resolves the name again: a resolver that answers
    differently within that instant is not covered; an egress firewall is the full answer.)
    """
    problem = webhook_url_problem(url, allow_local=allow_local)
    if problem or allow_local:
        return problem
    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        return f"The host name does not resolve: {exc}."
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global:
            return f"The host resolves to a non-public address ({address})."
    return None
