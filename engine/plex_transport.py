"""Plex's HTTP transport: one urllib3 pool for the configured origin, shaped like the part of a
requests.Session that plexapi's `PlexServer.query` calls (`get`/`put`/`post`/`delete` returning
a `requests.Response`).

Why not requests itself: at bulk-sync rates its per-request work (cookie jars, setting merges,
hooks, the URL re-encoded three times) cost ~0.6 ms of CPU per Plex edit, more than the rest of
the engine per scene (`bench/profile_engine.py`, README performance table). urllib3 is what
requests sends through; this keeps its pooling, keep-alive, TLS checks and timeouts.

What it adds for trust: a request to any other origin (scheme, host, port) is refused before a
byte is sent, and redirects are never followed (real Plex answers API calls itself; a redirect
means a proxy or the wrong address, and following it would send the token elsewhere). Failures
are raised as requests' exception classes, wrapped the way requests' `HTTPAdapter.send` wraps
them, so Plex and Stash failures are put into words by the same rules (`engine/http.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests
import urllib3
from requests.structures import CaseInsensitiveDict
from requests.utils import DEFAULT_CA_BUNDLE_PATH, get_encoding_from_headers, select_proxy
from urllib3 import exceptions as u3

from engine import __version__
from engine.http import origin_of, origin_of_parts
from engine.masking import mask_url

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
    """HTTP to one Plex server. Thread-safe: the dispatcher's workers share it."""

    def __init__(
        self,
        base_url: str,
        *,
        ca_bundle: str = "",
        proxies: dict[str, str] | None = None,
    ) -> None:
        self._origin = origin_of(base_url)
        self._base_url = base_url
        self.hooks: dict[str, list[ResponseHook]] = {"response": []}
        resolved = requests.utils.get_environ_proxies(base_url) if proxies is None else proxies
        self._proxy = select_proxy(base_url, resolved)
        tls: dict[str, Any] = {}
        if self._origin[0] == "https":
            tls = {"cert_reqs": "CERT_REQUIRED", "ca_certs": ca_bundle or DEFAULT_CA_BUNDLE_PATH}
        self._manager = _pool_manager(self._proxy, tls)
        # Without a proxy, one pool and origin-relative targets (urllib3 re-parses less).
        self._pool = None if self._proxy else self._manager.connection_from_url(base_url)

    @property
    def ca_certs(self) -> str | None:
        """The CA file TLS answers are verified against (None over plain http)."""
        value = self._manager.connection_pool_kw.get("ca_certs")
        return None if value is None else str(value)

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
        options: dict[str, Any] = {
            "body": data,
            "headers": {**_DEFAULT_HEADERS, **(headers or {})},
            "timeout": _timeout(timeout),
            "retries": _NO_RETRIES,
            "redirect": False,
            "preload_content": False,
        }
        try:
            if self._pool is not None:
                target = urlunsplit(("", "", parts.path or "/", parts.query, ""))
                answer = self._pool.urlopen(method, target, **options)
            else:
                answer = self._manager.urlopen(method, url, **options)
        except (u3.HTTPError, OSError) as exc:
            raise as_requests_error(exc) from exc
        try:
            body = answer.read(decode_content=True)
        except (u3.HTTPError, OSError) as exc:
            raise body_error(exc) from exc
        finally:
            answer.release_conn()
        response = _response(answer, url, body)
        for hook in self.hooks["response"]:
            hook(response)
        return response

    def close(self) -> None:
        """Close every pooled connection (the transport stays usable; it reconnects)."""
        self._manager.clear()
        if self._pool is not None:
            self._pool.close()
            self._pool = self._manager.connection_from_url(self._base_url)


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


def _timeout(timeout: float | tuple[float, float] | None) -> urllib3.Timeout:
    if isinstance(timeout, tuple):
        return urllib3.Timeout(connect=timeout[0], read=timeout[1])
    return urllib3.Timeout(connect=timeout, read=timeout)


def _response(answer: urllib3.BaseHTTPResponse, url: str, body: bytes) -> requests.Response:
    """The answer as requests builds it: headers, body, and the text encoding they name."""
    response = requests.Response()
    response.status_code = answer.status
    response.headers = CaseInsensitiveDict(answer.headers)
    response.encoding = get_encoding_from_headers(response.headers)
    response.reason = answer.reason or ""
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


def body_error(exc: BaseException) -> requests.RequestException:
    """A failure while reading an answer's body, as requests names it when it reads one."""
    if isinstance(exc, u3.SSLError):
        return requests.exceptions.SSLError(exc)
    if isinstance(exc, u3.DecodeError):
        return requests.exceptions.ContentDecodingError(exc)
    if isinstance(exc, u3.ProtocolError):  # cut short, bad chunk
        return requests.exceptions.ChunkedEncodingError(exc)
    return requests.exceptions.ConnectionError(exc)  # a read timeout included, as requests does
