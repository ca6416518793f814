"""An identity provider's signing keys from its JWKS URL (CHAINGATE_JWKS_URL), by `kid`.

PyJWT's PyJWKClient fetches and parses the key set; this module decides when to fetch.
Keys are kept in memory for LIFESPAN_SECONDS and looked up without any I/O. A `kid` the
set does not hold (the provider rotated its keys) fetches the set again, but at most once
per COOLDOWN_SECONDS whatever happens, success or failure: tokens naming invented kids
cannot make the gateway hammer the provider. The fetch is blocking HTTP, so it runs in a
worker thread and never stalls the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from functools import lru_cache

from jwt import PyJWK, PyJWKClient, PyJWTError

log = logging.getLogger("chaingate.auth")

LIFESPAN_SECONDS = 300.0
COOLDOWN_SECONDS = 30.0
FETCH_TIMEOUT_SECONDS = 5.0

# Asymmetric algorithms only: a key set holding a symmetric ("oct") key would otherwise
# let whoever can read the public JWKS sign tokens with it.
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)


class JwksKeys:
    """The signing keys published at one JWKS URL, cached and refreshed by `kid`."""

    def __init__(self, url: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        # PyJWKClient's own cache is off: this class decides when to fetch, and it also
        # rate-limits failed fetches (PyJWKClient retries a failing endpoint every time).
        self.client = PyJWKClient(url, cache_jwk_set=False, timeout=FETCH_TIMEOUT_SECONDS)
        self.url = url
        self.clock = clock
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at: float | None = None  # last successful fetch
        self._tried_at: float | None = None  # last attempt, successful or not
        self._lock = threading.Lock()
        self.fetches = 0  # attempts, for the tests and for logs

    async def key(self, kid: str) -> PyJWK | None:
        """The key named `kid`, or None when the provider does not publish it (as far as
        a fetch allowed by the cooldown can tell). Its `algorithm_name` is the only
        algorithm it may verify."""
        known = self._keys.get(kid)
        if known is not None and not self._stale():
            return known
        # While a fetch is under way, wait for it rather than refuse a key it may bring.
        if self._may_fetch() or self._lock.locked():
            await asyncio.to_thread(self._refresh)
        # After a failed fetch the last good keys still serve: the provider being
        # unreachable does not make its published keys any less its own.
        return self._keys.get(kid)

    def _stale(self) -> bool:
        return self._fetched_at is None or self.clock() - self._fetched_at >= LIFESPAN_SECONDS

    def _may_fetch(self) -> bool:
        return self._tried_at is None or self.clock() - self._tried_at >= COOLDOWN_SECONDS

    def _refresh(self) -> None:
        with self._lock:
            if not self._may_fetch():  # another request fetched while this one waited
                return
            self._tried_at = self.clock()
            self.fetches += 1
            try:
                published = self.client.get_signing_keys()
            except (PyJWTError, ValueError, OSError) as exc:  # unreachable, not JSON, no usable key
                log.warning("JWKS %s could not be fetched: %s", self.url, exc)
                return
            self._keys = {
                key.key_id: key for key in published if key.key_id and key.algorithm_name in ASYMMETRIC_ALGORITHMS
            }
            self._fetched_at = self._tried_at


@lru_cache(maxsize=8)
def jwks_keys(url: str) -> JwksKeys:
    """One key cache per URL for this process (every request shares it)."""
    return JwksKeys(url)
