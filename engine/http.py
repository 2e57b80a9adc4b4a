"""HTTP sessions as both clients use them: credentials only for the configured origin.

Every request, redirects included, passes through `OriginGuardAdapter.send`; when its origin
(scheme, host, port) is not the configured one, the credential headers and query parameters are
removed first. requests itself only drops `Authorization` on a cross-host redirect
(psf/requests `sessions.py`, `SessionRedirectMixin.rebuild_auth` / `should_strip_auth`), and it
never touches custom headers such as X-Plex-Token or ApiKey.
"""

from __future__ import annotations

import email.utils
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

CREDENTIAL_HEADERS = ("x-plex-token", "apikey", "authorization", "cookie")
CREDENTIAL_PARAMS = ("x-plex-token", "apikey", "api_key")
DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int | None]


def origin_of(url: str) -> Origin:
    """(scheme, host, port) with the scheme's default port filled in."""
    parts = urlsplit(url)
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


class OriginGuardAdapter(HTTPAdapter):
    """An HTTPAdapter that sends credentials only to `origin`."""

    def __init__(self, origin: Origin, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.origin = origin

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        if origin_of(request.url or "") != self.origin:
            strip_credentials(request)
        return super().send(request, **kwargs)


def configured_session(
    session: requests.Session, base_url: str, *, ca_bundle: str = ""
) -> requests.Session:
    """The session for one server: credentials only to its origin, our CA bundle if any.

    Environment proxies are resolved once for our server instead of on every request: requests
    re-reads them per request (measured: about a third of the CPU of a bulk sync).
    """
    session.proxies.update(requests.utils.get_environ_proxies(base_url) if base_url else {})
    session.trust_env = False
    if base_url:
        guard = OriginGuardAdapter(origin_of(base_url))
        for prefix in ("http://", "https://"):
            session.mount(prefix, guard)
    if ca_bundle:
        session.verify = ca_bundle
    return session


def tls_failure(exc: BaseException, setting: str) -> str | None:
    """Words for a TLS certificate failure (with the fix), or None for any other error."""
    if not isinstance(exc, requests.exceptions.SSLError):
        return None
    reason = "its certificate could not be verified"
    if "hostname" in str(exc).lower() or "doesn't match" in str(exc):
        reason = "its certificate names another host"
    return (
        f"TLS failed: {reason}. If the server uses a self-signed or private CA certificate, set "
        f"{setting} to that CA's certificate file (PEM), or use http:// on a trusted LAN."
    )


def http_epoch(http_date: str | None) -> int | None:
    """An HTTP date (a `Date` header) as epoch seconds, or None when absent or unreadable."""
    if not http_date:
        return None
    try:
        return int(email.utils.parsedate_to_datetime(http_date).timestamp())
    except (TypeError, ValueError):
        return None
