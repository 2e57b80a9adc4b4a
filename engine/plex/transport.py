"""Plex's HTTP transport: keep-alive connections to the configured origin, shaped like the part
of a requests.Session that plexapi's `PlexServer.query` calls (`get`/`put`/`post`/`delete`
returning a `requests.Response`).

Why not requests itself: at bulk-sync rates its per-request work (cookie jars, setting merges,
hooks, the URL re-encoded three times) cost ~0.6 ms of CPU per Plex edit, more than the rest of
the engine per scene (`bench/profile_engine.py`, README performance table). Directly, requests
go through `engine/plex/connections.py` (the standard library's http.client); through a
proxy, through urllib3's proxy managers, which requests itself uses.

What it adds for trust: a request to any other origin (scheme, host, port) is refused before a
byte is sent, and redirects are never followed (real Plex answers API calls itself; a redirect
means a proxy or the wrong address, and following it would send the token elsewhere). Every
answer is the final one (1xx answers are read past, `engine/http/interim.py`) and is read
within a size and time limit (`engine/http/limits.py`), on both paths. Failures
are raised as requests' exception classes, wrapped the way requests' `HTTPAdapter.send` wraps
them, so Plex and Stash failures are put into words by the same rules (`engine/http/session.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests
import urllib3
from requests.structures import CaseInsensitiveDict
from requests.utils import DEFAULT_CA_BUNDLE_PATH, get_encoding_from_headers, select_proxy
from urllib3 import exceptions as u3

from engine import __version__
from engine.clock import SYSTEM_CLOCK, Clock
from engine.http.interim import final_answers_only
from engine.http.limits import (
    DEFAULT_LIMITS,
    AnswerLimits,
    Deadline,
    read_urllib3_body,
)
from engine.http.session import origin_of, origin_of_parts
from engine.masking import mask_url
from engine.plex.connections import OriginConnections

# Enough for the dispatcher's ceiling of requests in flight (`max_in_flight` <= 16).
MAX_CONNECTIONS = 16
_DEFAULT_HEADERS = {
    "User-Agent": f"PlexSyncTray/{__version__}",
    "Accept": "*/*",
    "Accept-Encoding": "gzip, deflate",
}
# No retries and no redirects: what requests' adapter does by default (`Retry(0, read=False)`),
# minus redirects, which requests would follow one level up.
_NO_RETRIES = urllib3.Retry(total=0, read=False, redirect=False)

ResponseHook = Callable[[requests.Response], Any]


class PlexTransport:
    """HTTP to one Plex server, for one PlexClient (each dispatcher worker has its own)."""

    def __init__(
        self,
        base_url: str,
        *,
        ca_bundle: str = "",
        proxies: dict[str, str] | None = None,
        limits: AnswerLimits = DEFAULT_LIMITS,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._origin = origin_of(base_url)
        self._limits, self._clock = limits, clock
        self.hooks: dict[str, list[ResponseHook]] = {"response": []}
        resolved = requests.utils.get_environ_proxies(base_url) if proxies is None else proxies
        self._proxy = select_proxy(base_url, resolved)
        scheme, host, port = self._origin
        self._ca_file = (ca_bundle or DEFAULT_CA_BUNDLE_PATH) if scheme == "https" else None
        self._manager: urllib3.PoolManager | None = None
        self._direct: OriginConnections | None = None
        if self._proxy:
            tls = {"cert_reqs": "CERT_REQUIRED", "ca_certs": self._ca_file} if self._ca_file else {}
            self._manager = final_answers_only(_pool_manager(self._proxy, tls))
        else:
            ca_file = self._ca_file or ""
            self._direct = OriginConnections(
                scheme,
                host,
                port,
                ca_file=ca_file,
                keep=MAX_CONNECTIONS,
                limits=limits,
                clock=clock,
            )

    @property
    def ca_certs(self) -> str | None:
        """The CA file TLS answers are verified against (None over plain http)."""
        return self._ca_file

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", url, **kwargs)

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        data: bytes | None = None,
        timeout: float | tuple[float, float] | None = None,
        **_unused: Any,
    ) -> requests.Response:
        """One request, answered as a `requests.Response`; nothing is sent to another origin."""
        parts = urlsplit(url)
        if params:
            query = "&".join(filter(None, (parts.query, urlencode(params))))
            parts = parts._replace(query=query)
            url = urlunsplit(parts)
        if origin_of_parts(parts) != self._origin:
            raise requests.exceptions.InvalidURL(
                f"refused to send Plex's credentials to {mask_url(url)}: not the configured Plex"
            )
        sent = {**_DEFAULT_HEADERS, **(headers or {})}
        if self._direct is not None:
            target = urlunsplit(("", "", parts.path or "/", parts.query, ""))
            answer = self._direct.send(
                method, target, body=data, headers=sent, timeout=_timeouts(timeout)
            )
            response = _response(answer.status, answer.reason, answer.headers, url, answer.body)
        else:
            assert self._manager is not None
            response = self._through_proxy(self._manager, method, url, data, sent, timeout)
        for hook in self.hooks["response"]:
            hook(response)
        return response

    def _through_proxy(
        self,
        manager: urllib3.PoolManager,
        method: str,
        url: str,
        data: bytes | None,
        headers: dict[str, str],
        timeout: float | tuple[float, float] | None,
    ) -> requests.Response:
        connect, read = _timeouts(timeout)
        deadline = Deadline(self._clock, self._limits.seconds)
        try:
            answer = manager.urlopen(
                method,
                url,
                body=data,
                headers=headers,
                timeout=urllib3.Timeout(connect=connect, read=read),
                retries=_NO_RETRIES,
                redirect=False,
                preload_content=False,
            )
        except (u3.HTTPError, OSError) as exc:
            raise as_requests_error(exc) from exc
        try:
            body = read_urllib3_body(answer, self._limits, deadline)
        finally:
            answer.release_conn()
        return _response(answer.status, answer.reason, answer.headers, url, body)

    def close(self) -> None:
        """Close every idle connection (the transport stays usable; it reconnects)."""
        if self._direct is not None:
            self._direct.close()
        if self._manager is not None:
            self._manager.clear()


def _pool_manager(proxy: str | None, tls: dict[str, Any]) -> urllib3.PoolManager:
    common: dict[str, Any] = {"maxsize": MAX_CONNECTIONS, "block": False, **tls}
    if not proxy:
        return urllib3.PoolManager(num_pools=1, **common)
    if proxy.lower().startswith("socks"):
        try:
            from urllib3.contrib.socks import SOCKSProxyManager
        except ImportError as exc:  # PySocks missing: say so instead of going direct
            raise requests.exceptions.InvalidSchema(
                "a SOCKS proxy is configured for Plex but PySocks is not installed"
            ) from exc
        return SOCKSProxyManager(proxy, num_pools=1, **common)
    auth = urlsplit(proxy)
    headers = None
    if auth.username:
        basic = f"{auth.username}:{auth.password or ''}"
        headers = urllib3.make_headers(proxy_basic_auth=basic)
    return urllib3.ProxyManager(proxy, num_pools=1, proxy_headers=headers, **common)


def _timeouts(
    timeout: float | tuple[float, float] | None,
) -> tuple[float | None, float | None]:
    """(connect, read) seconds, from requests' forms: one number for both, or a pair."""
    if isinstance(timeout, tuple):
        return timeout[0], timeout[1]
    return timeout, timeout


def _response(
    status: int, reason: str | None, headers: Mapping[str, str], url: str, body: bytes
) -> requests.Response:
    """The answer as requests builds it: headers, body, and the text encoding they name."""
    response = requests.Response()
    response.status_code = status
    response.headers = CaseInsensitiveDict(headers)
    response.encoding = get_encoding_from_headers(response.headers)
    response.reason = reason or ""
    response.url = url
    response._content = body
    return response


def as_requests_error(exc: BaseException) -> requests.RequestException:
    """A urllib3 (or socket) failure as the requests exception requests would have raised."""
    reason = exc.reason if isinstance(exc, u3.MaxRetryError) and exc.reason else exc
    if isinstance(reason, u3.SSLError):
        return requests.exceptions.SSLError(exc)
    if isinstance(reason, u3.ProxyError):
        return requests.exceptions.ProxyError(exc)
    # urllib3 derives NewConnectionError (refused, no route) from ConnectTimeoutError.
    if isinstance(reason, u3.ConnectTimeoutError) and not isinstance(reason, u3.NewConnectionError):
        return requests.exceptions.ConnectTimeout(exc)
    if isinstance(reason, u3.ReadTimeoutError):
        return requests.exceptions.ReadTimeout(exc)
    if isinstance(reason, u3.InvalidHeader):
        return requests.exceptions.InvalidHeader(exc)
    if isinstance(reason, u3.LocationValueError):
        return requests.exceptions.InvalidURL(exc)
    return requests.exceptions.ConnectionError(exc)
