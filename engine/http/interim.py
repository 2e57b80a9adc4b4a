"""Informational (1xx) answers are skipped until the final one, on every connection (issue 22).

The standard library's `http.client` skips only `100 Continue`: `HTTPResponse.begin` loops on
`_read_status` "until we get a non-100 response" (CPython Lib/http/client.py, 3.11 to main), so
a `103 Early Hints` (which a proxy in front of Plex may send, RFC 8297) is returned as *the*
answer, with no body. The connection then goes back for reuse, and the real answer to this
request is read as the next request's: with keep-alive, every later answer is shifted by one
(scene 222's edit was sent to item 111). urllib3 builds on the same class (`connection.py`,
`HTTPConnection.getresponse` calls `super().getresponse()`, which makes `self.response_class`),
and so does requests, for Stash.

RFC 9110 section 15.2: "A client MUST be able to parse one or more 1xx responses received
prior to a final response, even if the client does not expect one. A user agent MAY ignore
unexpected 1xx responses." That is what `FinalAnswerResponse` does. A `101 Switching
Protocols` was never asked for (the engine sends no `Upgrade`), so it is an error and the
connection is closed, as is one that sends more than `MAX_INTERIM` 1xx answers.
"""

from __future__ import annotations

import functools
import http.client
from typing import Any

import urllib3

MAX_INTERIM = 16  # informational answers tolerated before one final answer


class FinalAnswerResponse(http.client.HTTPResponse):
    """`http.client.HTTPResponse` that reads past every 1xx answer to the final one."""

    def _read_status(self) -> tuple[str, int, str]:
        for _ in range(MAX_INTERIM):
            version, status, reason = super()._read_status()  # type: ignore[misc]
            if status == 101:
                raise http.client.HTTPException("101 Switching Protocols, never asked for")
            if status == http.client.CONTINUE or not 100 <= status < 200:
                return version, status, reason  # begin() skips a 100's header itself
            http.client.parse_headers(self.fp)  # the 1xx's header fields: read and dropped
        raise http.client.HTTPException(f"more than {MAX_INTERIM} informational answers")


class FinalAnswerConnection(http.client.HTTPConnection):
    response_class = FinalAnswerResponse


class FinalAnswerHTTPSConnection(http.client.HTTPSConnection):
    response_class = FinalAnswerResponse


@functools.cache
def _final_only_pool(pool_cls: type[Any]) -> type[Any]:
    """`pool_cls` with connections whose answers skip 1xx (any urllib3 pool: direct, proxied,
    SOCKS; each names its connection class in `ConnectionCls`)."""
    base = pool_cls.ConnectionCls
    connection = type(
        f"FinalAnswer{base.__name__}", (base,), {"response_class": FinalAnswerResponse}
    )
    return type(f"FinalAnswer{pool_cls.__name__}", (pool_cls,), {"ConnectionCls": connection})


def final_answers_only(manager: urllib3.PoolManager) -> urllib3.PoolManager:
    """The same manager, its pools made with connections that skip 1xx answers (urllib3 makes
    each pool from `pool_classes_by_scheme`: poolmanager.py `PoolManager._new_pool`)."""
    manager.pool_classes_by_scheme = {
        scheme: _final_only_pool(pool) for scheme, pool in manager.pool_classes_by_scheme.items()
    }
    return manager
