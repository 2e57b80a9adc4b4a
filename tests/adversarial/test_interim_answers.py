"""An early 1xx answer never shifts later answers to the wrong request (issue 22, point 3).

http.client takes a `103 Early Hints` as the final answer and reuses the connection, so the
real answer to one request was read as the next one's (scene 222's edit went to item 111).
Hostile servers on 127.0.0.1 send a 103 (and other 1xx) before each answer on keep-alive
connections, directly, through an HTTP proxy, and to Stash's requests session; and a server
that answers with another item than the one asked for is refused before any write.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest
import requests
from hostile_http import ROOT, path_of, scripted_server, whole

from engine.config.file import PlexSyncConfig
from engine.errors import TransientError
from engine.http.session import configured_session
from engine.plex.client import PlexClient
from engine.plex.model import PlexSection
from engine.plex.transport import PlexTransport

EARLY_HINTS = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
PROCESSING = b"HTTP/1.1 102 Processing\r\n\r\n"
TOKEN = "plex-token-abcdef123"


def hinted(number: int, request_line: str) -> Iterable[bytes]:
    """Every answer after one or two 1xx: the body names the path it answers."""
    yield EARLY_HINTS
    if number % 2:
        yield PROCESSING
    yield whole(path_of(request_line).encode(), content_type="text/plain")


PATHS = [f"/item/{n}" for n in (111, 222, 333, 444)]


def test_plex_answers_after_early_hints_stay_with_their_requests() -> None:
    with scripted_server(hinted) as url:
        transport = PlexTransport(url)
        try:
            answers = [transport.get(url + path, timeout=(2, 2)) for path in PATHS]
        finally:
            transport.close()
    assert [(a.status_code, a.text) for a in answers] == [(200, p) for p in PATHS]


def test_plex_answers_through_a_proxy_after_early_hints_stay_with_their_requests() -> None:
    plex = "http://plex.invalid:32400"  # never resolved: everything goes to the proxy
    with scripted_server(hinted) as proxy:
        transport = PlexTransport(plex, proxies={"http": proxy})
        try:
            answers = [transport.get(plex + path, timeout=(2, 2)) for path in PATHS]
        finally:
            transport.close()
    assert [(a.status_code, a.text) for a in answers] == [(200, p) for p in PATHS]


def test_stash_answers_after_early_hints_stay_with_their_requests() -> None:
    with scripted_server(hinted) as url:
        session = configured_session(requests.Session(), url)
        try:
            answers = [session.get(url + path, timeout=(2, 2)) for path in PATHS]
        finally:
            session.close()
    assert [(a.status_code, a.text) for a in answers] == [(200, p) for p in PATHS]


def test_an_unasked_switching_protocols_answer_is_an_error_and_the_connection_dropped() -> None:
    def switching(number: int, request_line: str) -> Iterable[bytes]:
        yield b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n"
        yield whole(b"after", content_type="text/plain")

    with scripted_server(switching) as url:
        transport = PlexTransport(url)
        with pytest.raises(requests.ConnectionError):
            transport.get(url + "/item/1", timeout=(2, 2))
        transport.close()


def _video(rating_key: str, section: str) -> bytes:
    return (
        f'<MediaContainer size="1" librarySectionID="{section}">'
        f'<Video ratingKey="{rating_key}" librarySectionID="{section}" title="Grandma"'
        f' updatedAt="1"><Media><Part file="/data/{rating_key}.mp4"/></Media></Video>'
        "</MediaContainer>"
    ).encode()


def misrouting(item: bytes) -> object:
    def script(number: int, request_line: str) -> Iterable[bytes]:
        path = path_of(request_line).split("?")[0]
        if request_line.startswith("PUT"):
            raise AssertionError("an edit was sent")  # never: the read is refused first
        yield whole(ROOT if path == "/" else item)

    return script


def client_for(url: str) -> PlexClient:
    return PlexClient(PlexSyncConfig(plex_url=url, plex_token=TOKEN, plex_read_timeout=2))


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (_video("111", "1"), "another item"),  # asked for 222
        (_video("222", "2"), "another library"),  # the right key, in a library not asked
    ],
)
def test_an_item_read_that_is_not_the_one_asked_for_is_refused(answer: bytes, words: str) -> None:
    with scripted_server(misrouting(answer)) as url:  # type: ignore[arg-type]
        client = client_for(url)
        try:
            with pytest.raises(TransientError) as single:
                client.fetch_item("222", "1")
            with pytest.raises(TransientError) as batch:
                client.fetch_items(["222", "333"], "1")
        finally:
            client.close()
    assert words in single.value.title and words in batch.value.title
    assert "nothing was written" in single.value.message


def test_a_listing_of_another_library_is_refused() -> None:
    listing = _video("222", "2").replace(b'size="1"', b'size="1" totalSize="1"')
    with scripted_server(misrouting(listing)) as url:  # type: ignore[arg-type]
        client = client_for(url)
        try:
            with pytest.raises(TransientError) as info:
                list(client.sweep(PlexSection("1", "Movies")))
        finally:
            client.close()
    assert "another library" in info.value.title
