"""A failed connection in plain words: the cause, and the URL with its credentials masked."""

from __future__ import annotations

import pytest
import requests

from engine.http.session import network_failure, tls_failure

URL = "http://alice:pl3x@nas.local:32400"
MASKED = "http://********@nas.local:32400"


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (
            requests.ConnectTimeout("timed out"),
            "connecting to http://********@nas.local:32400 timed out",
        ),
        (requests.ReadTimeout("read timed out"), "did not answer in time"),
        (requests.ConnectionError("[Errno 111] Connection refused"), "refused the connection"),
        (
            requests.ConnectionError("[Errno -2] Name or service not known"),
            f"the host name in {MASKED} was not found",
        ),
        (
            requests.ConnectionError(
                "Failed to resolve 'nas.local' ([Errno -3] Temporary failure)"
            ),
            "was not found",
        ),
        (requests.ConnectionError("[Errno 113] No route to host"), "no route to the host"),
        (requests.ConnectionError("Connection reset by peer"), "closed the connection"),
        (requests.ConnectionError("something else"), "the connection to http://"),
    ],
)
def test_network_failure_names_the_cause_and_the_masked_url(error: Exception, words: str) -> None:
    text = network_failure(error, URL)
    assert words in text
    assert "pl3x" not in text and "alice" not in text and "nas.local:32400" in text


def test_https_to_a_plain_http_port_says_so() -> None:
    error = requests.exceptions.SSLError("[SSL: WRONG_VERSION_NUMBER] wrong version number")
    assert "does not speak TLS on that port (try http://)" in (tls_failure(error, "x") or "")
    assert tls_failure(requests.ConnectionError("refused"), "x") is None
