"""A short-lived cache of public pages as anonymous visitors see them.

The search page, a space's week calendar, a venue's page, the scorecard and the open-data files are the same for
every anonymous visitor asking the same URL, and they are read far more often than the data behind them changes.
Each web worker keeps the rendered response for PUBLIC_PAGE_CACHE_SECONDS (default 10; 0 turns it off), keyed by
the full URL. Signed-in visitors always get a fresh page (they may see booking titles, flash messages, their own
name, and every response to them says Cache-Control: no-store), and a response that sets a cookie or is marked
private or no-store is never stored.

What this trades: for up to that many seconds an anonymous visitor may see a slot as free that was booked since.
Nothing relies on the page for correctness: a booking is checked again, under a lock, when it is made.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps
from threading import Lock
from typing import ParamSpec

from flask import Response, current_app, make_response, request, session
from flask.typing import ResponseReturnValue
from flask_login import current_user

P = ParamSpec("P")


class _Store:
    """A bounded, thread-safe LRU of (expiry, response parts) per worker process."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, tuple[float, bytes, int, list[tuple[str, str]]]] = OrderedDict()
        self._lock = Lock()

    def get(self, key: str, now: float) -> tuple[bytes, int, list[tuple[str, str]]] | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            expires, body, status, headers = item
            if expires <= now:
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return body, status, headers

    def put(
        self, key: str, expires: float, body: bytes, status: int, headers: list[tuple[str, str]], size: int
    ) -> None:
        with self._lock:
            self._items[key] = (expires, body, status, headers)
            self._items.move_to_end(key)
            while len(self._items) > size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_store = _Store()

# Headers that describe the stored body and may be replayed; the rest (cookies, per-request ids) are not.
_KEPT_HEADERS = {"content-type", "content-disposition", "cache-control"}


def _cacheable_visitor() -> bool:
    if request.method != "GET":
        return False
    if current_user and current_user.is_authenticated:
        return False
    # Flash messages belong to one visitor's session.
    return not session.get("_flashes")


def _private(response: Response) -> bool:
    return bool(response.cache_control.no_store or response.cache_control.private)


def public_page(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    """Serve the view from the per-worker cache for anonymous visitors (see the module docstring)."""

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        ttl = int(current_app.config.get("PUBLIC_PAGE_CACHE_SECONDS", 0) or 0)
        if ttl <= 0 or not _cacheable_visitor():
            return view(*args, **kwargs)
        key = request.full_path
        now = time.monotonic()
        hit = _store.get(key, now)
        if hit is not None:
            body, status, headers = hit
            response = Response(body, status=status, headers=headers)
            response.headers["X-Page-Cache"] = "hit"
            return response
        response = make_response(view(*args, **kwargs))
        if (
            response.status_code == 200
            and not response.direct_passthrough
            and "Set-Cookie" not in response.headers
            and not _private(response)
            and _cacheable_visitor()  # the view may have signed someone in
        ):
            headers = [(k, v) for k, v in response.headers.items() if k.lower() in _KEPT_HEADERS]
            size = int(current_app.config.get("PUBLIC_PAGE_CACHE_ENTRIES", 2000))
            _store.put(key, now + ttl, response.get_data(), response.status_code, headers, size)
            response.headers["X-Page-Cache"] = "miss"
        return response

    return wrapped


def clear() -> None:
    """Forget every cached page in this process (tests, and after data loads)."""
    _store.clear()
