"""HTTP for the client: one urllib3 PoolManager (connections kept and reused), and retries
decided per call from the contract (API.md): only a call that is safe to repeat is repeated.

Safe to repeat after it may have reached the service: GET and HEAD (they read), PUT (the
contract makes it idempotent: the same PUT again stores the same state and answers it), and
the POSTs that decide without changing anything (`/v1/authorize`, its batch and accounts
forms, AuthZEN's evaluations and searches). Never repeated once sent: any other POST (it
creates: a session, a service, an invite), PATCH, and DELETE (a repeated DELETE of what the
first one removed answers 404, an error for a change that happened). A call whose
connection could not even be opened was never sent, so it is retried whatever it is.
"""

import json
import urllib.parse
from typing import Any

import urllib3
from urllib3.exceptions import ConnectTimeoutError, HTTPError, MaxRetryError
from urllib3.util.retry import Retry

from authz_client.errors import AuthzError, Unavailable

RETRY_STATUSES = frozenset({502, 503, 504})
REPEATABLE_METHODS = frozenset({"GET", "HEAD", "PUT", "OPTIONS"})
DECIDING_POSTS = frozenset({
    "/v1/authorize", "/v1/authorize/batch", "/v1/authorize/accounts",
    "/access/v1/evaluation", "/access/v1/evaluations", "/access/v1/search/subject",
    "/access/v1/search/resource", "/access/v1/search/action",
})


def is_repeatable(method: str, path: str) -> bool:
    """True when the call may be sent again after the service may have received it."""
    method = method.upper()
    return method in REPEATABLE_METHODS or (method == "POST" and path in DECIDING_POSTS)


class _Backoff(Retry):
    """urllib3's Retry, waiting `backoff_factor × 2^(n-1)` before the n-th retry (the first too)."""

    def get_backoff_time(self) -> float:
        tries = len(self.history)
        return 0.0 if tries == 0 else min(self.backoff_max, self.backoff_factor * 2 ** (tries - 1))


class Transport:
    """Sends calls to one service over a pool of kept-alive connections; thread-safe."""

    def __init__(self, base_url: str, api_key: str, timeout: float, retries: int,
                 backoff: float, pool_size: int):
        self.base_url, self.retries, self.backoff = base_url.rstrip("/"), retries, backoff
        self.headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json",
                        "User-Agent": "authz-client/0.1"}
        self.pool = urllib3.PoolManager(num_pools=4, maxsize=pool_size,
                                        timeout=urllib3.Timeout(connect=timeout, read=timeout),
                                        retries=False)

    def retry_for(self, method: str, path: str) -> Retry:
        """The retry rules of one call: connection failures always; read errors and
        502/503/504 only when the call is repeatable."""
        again = self.retries if is_repeatable(method, path) else 0
        return _Backoff(total=None, connect=self.retries, read=again, status=again, other=0,
                        redirect=0, allowed_methods=None, backoff_factor=self.backoff,
                        status_forcelist=RETRY_STATUSES if again else (),
                        respect_retry_after_header=False, raise_on_status=False,
                        raise_on_redirect=False)

    def call(self, method: str, path: str, body: Any = None,
             query: dict[str, Any] | None = None) -> tuple[int, Any]:
        """(status, parsed JSON or None) of a 2xx answer. AuthzError for 4xx; Unavailable when
        unreachable, still 5xx after the retries, or not JSON."""
        url = self.base_url + path + (f"?{_encode(query)}" if query else "")
        data = json.dumps(body).encode() if body is not None else None
        headers = self.headers | ({"Content-Type": "application/json"} if data is not None else {})
        is_write = not is_repeatable(method, path)
        try:
            answer = self.pool.request(method, url, body=data, headers=headers,
                                       retries=self.retry_for(method, path))
        except MaxRetryError as exc:
            raise _unreached(exc.reason or exc, is_write) from None
        except HTTPError as exc:
            raise _unreached(exc, is_write) from None
        parsed = _json_or_none(answer.data)
        if answer.status >= 500:
            raise Unavailable(_describe(answer.status, parsed), answer.status, parsed,
                              maybe_changed=is_write)
        if answer.status >= 300:
            raise AuthzError(answer.status, parsed)
        if answer.data and parsed is None:
            raise Unavailable("the service's answer was not JSON", answer.status,
                              maybe_changed=is_write)
        return answer.status, parsed

    def close(self) -> None:
        """Close every kept connection."""
        self.pool.clear()


def _unreached(error: Exception, is_write: bool) -> Unavailable:
    """Unavailable for a transport error; a write was maybe applied unless never sent."""
    was_sent = not isinstance(error, ConnectTimeoutError)
    return Unavailable(f"{type(error).__name__}: {error}", maybe_changed=is_write and was_sent)


def _describe(status: int, body: Any) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return f"HTTP {status} {error.get('code', '')}: {error.get('message', '')}"
    return f"HTTP {status}"


def _encode(query: dict[str, Any]) -> str:
    """A query string; booleans as the contract spells them (`true`, `false`)."""
    pairs = {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in query.items()
             if v is not None}
    return urllib.parse.urlencode(pairs)


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None
