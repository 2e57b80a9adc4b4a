"""The HTTP session layer: origins, credential stripping, TLS failures in words, CA bundles."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from engine.config.file import PlexSyncConfig
from engine.errors import UnreachableError
from engine.http.session import configured_session, origin_of, strip_credentials, tls_failure
from engine.plex.client import PlexClient
from engine.plex.transport import PlexTransport
from engine.stash.client import StashClient

SSL_ERROR = requests.exceptions.SSLError(
    "HTTPSConnectionPool(host='plex.lan', port=32400): [SSL: CERTIFICATE_VERIFY_FAILED] "
    "certificate verify failed: self-signed certificate"
)


def test_origins_compare_scheme_host_and_port() -> None:
    assert origin_of("http://Plex.LAN/x") == origin_of("http://plex.lan:80/y")
    assert origin_of("https://plex.lan") == ("https", "plex.lan", 443)
    assert origin_of("http://plex.lan:32400") != origin_of("http://plex.lan:32401")
    assert origin_of("http://plex.lan:32400") != origin_of("https://plex.lan:32400")


def test_strip_credentials_removes_headers_and_parameters_only() -> None:
    request = requests.Request(
        "GET",
        "http://other:1/a?X-Plex-Token=t1&apikey=k1&keep=1",
        headers={"X-Plex-Token": "t", "ApiKey": "k", "Accept": "json"},
    ).prepare()
    strip_credentials(request)
    assert request.url == "http://other:1/a?keep=1"
    assert dict(request.headers) == {"Accept": "json"}


def test_a_tls_failure_is_named_with_its_fix() -> None:
    assert tls_failure(requests.ConnectionError("refused"), "plex_ca_bundle") is None
    text = tls_failure(SSL_ERROR, "plex_ca_bundle") or ""
    assert "TLS" in text and "plex_ca_bundle" in text and "http://" in text


def test_plex_tls_failure_is_not_just_a_failed_connection() -> None:
    client = PlexClient(PlexSyncConfig(plex_url="https://plex.lan:32400", plex_token="t" * 20))
    with pytest.raises(UnreachableError) as info, client._translated("a call"):
        raise SSL_ERROR
    client.close()
    assert "TLS" in info.value.title and "plex_ca_bundle" in info.value.message


def test_stash_tls_failure_names_its_setting() -> None:
    session = requests.Session()

    def fail(*args: object, **kwargs: object) -> requests.Response:
        raise SSL_ERROR

    session.request = fail  # type: ignore[method-assign]
    client = StashClient(
        PlexSyncConfig(stash_url="https://stash.lan"), session_factory=lambda: session
    )
    with pytest.raises(UnreachableError) as info:
        client.version()
    client.close()
    assert "TLS" in info.value.title and "stash_ca_bundle" in info.value.message


def test_a_ca_bundle_is_what_the_sessions_verify_with(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    config = PlexSyncConfig(
        plex_url="https://plex.lan",
        plex_ca_bundle=str(bundle),
        stash_url="https://stash.lan",
        stash_ca_bundle=str(bundle),
    )
    assert configured_session(requests.Session(), "https://x").verify is True
    plex, stash = PlexClient(config), StashClient(config)
    assert isinstance(plex._session, PlexTransport)
    assert plex._session.ca_certs == str(bundle) and stash._session.verify == str(bundle)
    default = PlexClient(PlexSyncConfig(plex_url="https://plex.lan"))
    assert isinstance(default._session, PlexTransport)
    assert default._session.ca_certs == requests.utils.DEFAULT_CA_BUNDLE_PATH
    default.close()
    plex.close()
    stash.close()
