"""Rate limiting of authentication failures, per client, in this process.

A client that fails authentication more than ``AIFLOW_AUTH_FAILURE_LIMIT``
times within ``AIFLOW_AUTH_FAILURE_WINDOW`` seconds has its further failures
answered ``429 Too Many Requests`` with ``Retry-After`` instead of ``401``,
until its failures fall out of the window (a client that keeps guessing
stays limited, as every refused guess counts too).

Only failures are counted: a request with a valid token never touches the
limiter and is never refused by it, so an attacker who shares the AI Flow
service's address (a NAT, a proxy that is not trusted) cannot lock the
service out. The limiter sheds and flags guessing; the protection against
guessing itself is a long random secret (``secrets.token_urlsafe(32)``).

The window slides and lives in this process: behind several worker
processes each keeps its own count, so a client may fail up to
``limit x processes`` times per window. Memory is bounded: at most
``limit + 1`` timestamps per client and :data:`MAX_CLIENTS` clients (the
least recently failing client is forgotten first).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from ipaddress import IPv4Network, IPv6Network, ip_address

from werkzeug.datastructures import Headers

#: Clients whose failures are remembered at once.
MAX_CLIENTS = 10_000


class AuthFailureLimiter:
    """Sliding-window counts of authentication failures per client key."""

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        max_clients: int = MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.max_clients = max_clients
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def failure(self, client: str) -> int | None:
        """Count one failure of ``client``.

        Returns None while the client is within the limit (answer 401), else
        the whole seconds until its failures in the window drop below the
        limit (answer 429 with that ``Retry-After``).
        """
        now = self._clock()
        with self._lock:
            times = self._failures.get(client)
            if times is None:
                times = self._failures[client] = deque(maxlen=self.limit + 1)
                if len(self._failures) > self.max_clients:
                    self._failures.popitem(last=False)
            else:
                self._failures.move_to_end(client)
            times.append(now)
            horizon = now - self.window
            while times and times[0] <= horizon:
                times.popleft()
            if len(times) <= self.limit:
                return None
            # times holds limit + 1 failures: once the two oldest have left
            # the window, one more failure is within the limit again.
            return max(1, math.ceil(times[1] + self.window - now))

    def __len__(self) -> int:
        return len(self._failures)


Network = IPv4Network | IPv6Network


def client_address(
    remote_addr: str | None,
    forwarded_for: str | None,
    trusted: None | int | tuple[Network, ...],
) -> str:
    """The address that names a client for rate limiting.

    :param remote_addr: the peer address of the connection.
    :param forwarded_for: the ``X-Forwarded-For`` header, if any.
    :param trusted: ``AIFLOW_TRUSTED_PROXIES``: None (the header is ignored:
        anyone can send it), a number of proxy hops in front of the app (the
        address that many entries from the right is the client), or the
        proxies' networks (the header is believed only when the peer is one of
        them, and the client is the right-most entry outside them).
    """
    peer = remote_addr or "unknown"
    if trusted is None or not forwarded_for:
        return peer
    hops = [part.strip() for part in forwarded_for.split(",") if part.strip()]
    if not hops:
        return peer
    if isinstance(trusted, int):
        return hops[-trusted] if len(hops) >= trusted else peer
    if not _in(peer, trusted):
        return peer
    for hop in reversed(hops):
        if not _in(hop, trusted):
            return hop
    return hops[0]


def _in(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in networks)


def forwarded_for(headers: Headers) -> str | None:
    """All ``X-Forwarded-For`` headers of a request, joined into one list."""
    values = headers.getlist("X-Forwarded-For")
    return ",".join(values) if values else None
