"""HTTP sessions as both clients use them: credentials only for the configured origin.

Every request, redirects included, passes through `OriginGuardAdapter.send`; when its origin
(scheme, host, port) is not the configured one, the credential headers and query parameters are
removed first. requests itself only drops `Authorization` on a cross-host redirect
(psf/requests `sessions.py`, `SessionRedirectMixin.rebuild_auth` / `should_strip_auth`), and it
never touches custom headers such as X-Plex-Token or ApiKey.

The same adapter bounds every answer (`engine/http/limits.py`): a body is read within a size
and time limit, decoded within the same size, and 1xx answers are read past to the final one
(`engine/http/interim.py`). A caller that asks for `stream=True` reads the body itself,
with `read_answer` and the limits it needs (an image's).
"""

from __future__ import annotations

import email.utils
import functools
from typing import Any
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from engine.clock import SYSTEM_CLOCK, Clock
from engine.http.interim import final_answers_only
from engine.http.limits import DEFAULT_LIMITS, AnswerLimits, Deadline, read_urllib3_body
from engine.masking import mask_url

CREDENTIAL_HEADERS = ("x-plex-token", "apikey", "authorization", "cookie")
CREDENTIAL_PARAMS = ("x-plex-token", "apikey", "api_key")
DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int | None]


def origin_of(url: str) -> Origin:
    """(scheme, host, port) with the scheme's default port filled in."""
    return origin_of_parts(urlsplit(url))


def origin_of_parts(parts: SplitResult) -> Origin:
    """`origin_of` for a URL already split."""
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or DEFAULT_PORTS.get(scheme)


def strip_credentials(request: requests.PreparedRequest) -> None:
    """Remove every credential header and query parameter from a prepared request."""
    for name in list(request.headers):
        if name.lower() in CREDENTIAL_HEADERS:
            del request.headers[name]
    parts = urlsplit(request.url or "")
    if parts.query:
        query = [
            (key, value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
            if key.lower() not in CREDENTIAL_PARAMS
        ]
        request.url = urlunsplit(parts._replace(query=urlencode(query)))


def read_answer(
    response: requests.Response, limits: AnswerLimits, deadline: Deadline
) -> requests.Response:
    """Read a streamed answer's body within `limits`, as `response.content`."""
    response._content = read_urllib3_body(response.raw, limits, deadline)
    response._content_consumed = True  # type: ignore[attr-defined]  # as requests sets it
    return response


class OriginGuardAdapter(HTTPAdapter):
    """An HTTPAdapter that sends credentials only to `origin`, and reads bounded answers."""

    def __init__(
        self,
        origin: Origin,
        *,
        limits: AnswerLimits = DEFAULT_LIMITS,
        clock: Clock = SYSTEM_CLOCK,
        **kwargs: Any,
    ) -> None:
        self.origin, self.limits, self.clock = origin, limits, clock
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        final_answers_only(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> urllib3.PoolManager:
        manager: urllib3.PoolManager = super().proxy_manager_for(proxy, **kwargs)
        return final_answers_only(manager)

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, stream: bool = False, **kwargs: Any
    ) -> requests.Response:
        if origin_of(request.url or "") != self.origin:
            strip_credentials(request)
        deadline = Deadline(self.clock, self.limits.seconds)
        response = super().send(request, stream=True, **kwargs)
        return response if stream else read_answer(response, self.limits, deadline)


def configured_session(
    session: requests.Session,
    base_url: str,
    *,
    ca_bundle: str = "",
    clock: Clock = SYSTEM_CLOCK,
) -> requests.Session:
    """The session for one server: credentials only to its origin, our CA bundle if any.

    Environment proxies are resolved once for our server instead of on every request: requests
    re-reads them per request (measured: about a third of the CPU of a bulk sync).
    """
    session.proxies.update(requests.utils.get_environ_proxies(base_url) if base_url else {})
    session.trust_env = False
    if base_url:
        guard = OriginGuardAdapter(origin_of(base_url), clock=clock)
        for prefix in ("http://", "https://"):
            session.mount(prefix, guard)
    if ca_bundle:
        session.verify = ca_bundle
    return session


def tls_failure(exc: BaseException, setting: str) -> str | None:
    """Words for a TLS certificate failure (with the fix), or None for any other error."""
    if not isinstance(exc, requests.exceptions.SSLError):
        return None
    text = str(exc).lower()
    if "wrong version number" in text or "record layer failure" in text:
        # OpenSSL's words when an https:// URL points at a port that speaks plain HTTP.
        return "TLS failed: the server does not speak TLS on that port (try http://)."
    reason = "its certificate could not be verified"
    if "hostname" in text or "doesn't match" in text:
        reason = "its certificate names another host"
    return (
        f"TLS failed: {reason}. If the server uses a self-signed or private CA certificate, set "
        f"{setting} to that CA's certificate file (PEM), or use http:// on a trusted LAN."
    )


_NAME_NOT_FOUND = (
    "name or service not known",  # glibc
    "nodename nor servname",  # macOS
    "temporary failure in name resolution",
    "no address associated with hostname",
    "getaddrinfo failed",  # Windows
    "failed to resolve",  # urllib3 2's NameResolutionError
)


def network_failure(exc: BaseException, url: str) -> str:
    """The cause of a failed connection in plain words, naming the (masked) URL."""
    where = mask_url(url)
    if isinstance(exc, requests.ConnectTimeout):
        return f"connecting to {where} timed out (a firewall, or the wrong address?)"
    if isinstance(exc, requests.Timeout):
        return f"{where} did not answer in time"
    text = str(exc).lower()
    if "refused" in text:
        return f"{where} refused the connection (is the server running, and is the port right?)"
    if any(words in text for words in _NAME_NOT_FOUND):
        return f"the host name in {where} was not found (check its spelling)"
    if "no route to host" in text or "network is unreachable" in text:
        return f"{where} cannot be reached from this machine (no route to the host)"
    if "reset" in text or "remotedisconnected" in text or "aborted" in text:
        return f"{where} closed the connection (is this the right port, http or https?)"
    return f"the connection to {where} failed"


@functools.lru_cache(maxsize=8)  # answers within one second share a Date: parse it once
def http_epoch(http_date: str | None) -> int | None:
    """An HTTP date (a `Date` header) as epoch seconds, or None when absent or unreadable."""
    if not http_date:
        return None
    try:
        return int(email.utils.parsedate_to_datetime(http_date).timestamp())
    except (TypeError, ValueError):
        return None
