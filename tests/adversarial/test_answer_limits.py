"""No answer can take all the memory or all the time (issue 22, point 4).

298 KiB of gzip became a 300 MiB body (peak 629 MiB), an endless chunked answer grew to 1.27 GB
in 2 s (a read time-out never fires while bytes flow), and the Stash client did the same through
requests. Hostile servers on 127.0.0.1 send a gzip bomb, a Content-Length too large, an endless
chunked body and an endless dribble, to Plex's client (directly and through a proxy) and to
Stash's; each is refused with a clear "answer too large" (or "too slow") error that counts as
that server misbehaving (TransientError: retried, counted by the breaker like a 5xx), never as
an outage or a crash. Every server is bounded: an old client that reads on stops at its cap.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest
from answer_child import run_child
from engine_fakes import FakeStash
from fake_clock import FakeClock
from hostile_http import (
    ROOT,
    Sent,
    declared,
    dribble,
    endless,
    gzip_bomb,
    gzipped,
    path_of,
    scripted_server,
    whole,
)

from engine.config.file import PlexSyncConfig
from engine.errors import ErrorClass, SyncError, TransientError
from engine.plex.client import PlexClient
from engine.stash.client import StashClient
from engine.store.jobs import JobStore
from engine.sync.engine import SyncEngine

MIB = 2**20
LIMIT_WORDS = "larger than 64 MiB"  # engine/http/limits.py MAX_ANSWER_BYTES
SLOW_WORDS = "took longer than 120 s"  # ANSWER_SECONDS, on the injected clock
SERVER_CAP = 256 * MIB  # what one hostile answer may send at most (4 times the limit)
SECTIONS = (
    b'<MediaContainer size="1"><Directory key="1" type="movie" title="Movies"/></MediaContainer>'
)
HostileAnswer = Callable[[Sent], Iterable[bytes]]


@functools.cache
def bomb() -> bytes:
    return gzip_bomb(300)  # 298 KiB that inflate to 300 MiB


def hostile(kind: str, clock: FakeClock, content_type: str = "text/xml") -> HostileAnswer:
    """One of the four hostile answers, counting what it sends."""
    gzip = bomb() if kind == "gzip bomb" else b""  # made before any request: it takes a second

    def tick() -> None:
        clock.advance(1.0)  # a second of the client's clock per byte
        time.sleep(0.001)

    answers: dict[str, Callable[[], Iterator[bytes]]] = {
        "gzip bomb": lambda: gzipped(gzip, content_type=content_type),
        "Content-Length too large": lambda: declared(2**30, content_type=content_type),
        "endless chunked": lambda: endless(SERVER_CAP, content_type=content_type),
        "endless dribble": lambda: dribble(tick, 2000, content_type=content_type),
    }
    return lambda sent: sent.count(answers[kind]())


KINDS = ["gzip bomb", "Content-Length too large", "endless chunked", "endless dribble"]
TIMED = {"endless dribble"}


def plex_script(answer: HostileAnswer, sent: Sent) -> Callable[[int, str], Iterable[bytes]]:
    """A Plex whose root and library list are fine, and whose listing is the hostile answer."""

    def script(number: int, request_line: str) -> Iterable[bytes]:
        path = path_of(request_line).split("?")[0]
        if path == "/":
            return [whole(ROOT)]
        if path == "/library/sections":
            return [whole(SECTIONS)]
        return answer(sent)

    return script


def assert_refused(error: SyncError, kind: str, sent: Sent) -> None:
    """Plex or Stash misbehaving (not an outage), and the reading stopped early."""
    assert type(error) is TransientError and error.error_class is ErrorClass.TRANSIENT
    if kind == "endless dribble":
        assert SLOW_WORDS in error.message
        assert sent.bytes < 64 * 1024  # about 121 one-byte chunks of 2000: the time limit cut it
    else:
        assert LIMIT_WORDS in error.message
    if kind == "Content-Length too large":
        assert "Content-Length 1073741824" in error.message  # refused before reading the body
    if kind == "endless chunked":
        assert sent.bytes < 96 * MIB  # 64 MiB read, then the connection was closed


@pytest.mark.parametrize("route", ["direct", "proxy"])
@pytest.mark.parametrize("kind", KINDS)
def test_plex_refuses_an_oversized_or_endless_answer(
    kind: str, route: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock, sent = FakeClock(), Sent()
    answer = hostile(kind, clock)
    with scripted_server(plex_script(answer, sent), max_bytes=SERVER_CAP) as url:
        plex_url = url
        if route == "proxy":  # everything goes to the hostile proxy, as PlexTransport finds it
            plex_url = "http://plex.invalid:32400"
            for name in ("http_proxy", "HTTP_PROXY"):
                monkeypatch.setenv(name, url)
            for name in ("no_proxy", "NO_PROXY"):
                monkeypatch.delenv(name, raising=False)
        config = PlexSyncConfig(plex_url=plex_url, plex_token="t" * 20, plex_read_timeout=2)
        # Only the time limit needs the fake clock (the size limits hold on any client)
        client = PlexClient(config, clock=clock) if kind in TIMED else PlexClient(config)
        started = time.monotonic()
        try:
            with pytest.raises(SyncError) as info:
                list(client.sweep(client.movie_sections()[0]))
        finally:
            client.close()
    assert time.monotonic() - started < 30
    assert info.value.title == "Plex's answer to the library listing was refused"
    assert_refused(info.value, kind, sent)


def stash_script(answer: HostileAnswer, sent: Sent) -> Callable[[int, str], Iterable[bytes]]:
    return lambda number, request_line: answer(sent)


@pytest.mark.parametrize("kind", KINDS)
def test_stash_refuses_an_oversized_or_endless_answer(kind: str) -> None:
    clock, sent = FakeClock(), Sent()
    answer = hostile(kind, clock, content_type="application/json")
    with scripted_server(stash_script(answer, sent), max_bytes=SERVER_CAP) as url:
        config = PlexSyncConfig(stash_url=url, stash_api_key="k" * 20)
        client = StashClient(config, clock=clock) if kind in TIMED else StashClient(config)
        started = time.monotonic()
        try:
            with pytest.raises(SyncError) as info:
                client.version()
        finally:
            client.close()
    assert time.monotonic() - started < 30
    assert info.value.title == "Stash's answer to a GraphQL query was refused"
    assert info.value.service == "stash"
    assert_refused(info.value, kind, sent)


@pytest.mark.parametrize("kind", ["gzip bomb", "Content-Length too large"])
def test_a_stash_image_over_its_own_limit_is_refused(kind: str) -> None:
    clock, sent = FakeClock(), Sent()
    answer = hostile(kind, clock, content_type="image/jpeg")
    with scripted_server(stash_script(answer, sent), max_bytes=SERVER_CAP) as url:
        client = StashClient(PlexSyncConfig(stash_url=url, stash_api_key="k" * 20))
        try:
            with pytest.raises(SyncError) as info:
                client.fetch_image(url + "/scene/1/screenshot")
        finally:
            client.close()
    assert info.value.title == "Stash's answer to an image download was refused"
    assert type(info.value) is TransientError
    assert "larger than 32 MiB" in info.value.message  # MAX_IMAGE_BYTES


# --- the engine ----------------------------------------------------------------------------------


def test_a_sync_against_a_plex_answering_too_large_keeps_the_job_and_the_engine(
    tmp_path: Path,
) -> None:
    """The engine's thread runs on; the job is retried as for a misbehaving Plex (its attempts
    count, it is not held as in an outage), then dead-lettered with the reason: never lost."""
    clock, sent = FakeClock(), Sent()
    stash = FakeStash()
    stash.put(1)
    store = JobStore(tmp_path / "db.sqlite3", clock=clock)
    answer = hostile("gzip bomb", clock)
    seen: list[tuple[int, int, int]] = []  # (pending, in progress, dlq) at each look
    with scripted_server(plex_script(answer, sent), max_bytes=SERVER_CAP) as url:
        config = PlexSyncConfig(
            plex_url=url,
            plex_token="t" * 20,
            poll_interval=10,
            max_retries=1,
            path_mappings=[{"stash_prefix": "/data", "plex_prefix": "/media"}],
            sync_poster=False,
        )
        engine = SyncEngine(
            config=config,
            store=store,
            plex_factory=PlexClient,
            stash_factory=lambda c: stash,
            clock=clock,
        )

        def sleep(seconds: float) -> None:  # fake time passes at once, real time a little
            clock.advance(seconds)
            time.sleep(0.005)

        thread = threading.Thread(target=engine.run, kwargs={"sleep": sleep}, daemon=True)
        thread.start()
        try:
            end = time.monotonic() + 60
            while time.monotonic() < end and thread.is_alive():
                status = engine.status()
                seen.append((status.pending, status.in_progress, status.dlq))
                if status.dlq:
                    break
                time.sleep(0.02)
            alive = thread.is_alive()
        finally:
            engine.request_stop()
            thread.join(30)
            engine.close()
    try:
        assert alive and not thread.is_alive()  # it lived through every refusal, and stopped
        assert engine.status().engine_error is None
        assert all(sum(counts) == 1 for counts in seen[1:])  # the job was always somewhere
        (entry,) = store.dlq_list()
        assert entry.error_class == ErrorClass.TRANSIENT.value  # misbehaving, not unreachable
        assert "Plex's answer to the library listing was refused" in entry.message
        assert LIMIT_WORDS in entry.message and entry.attempts == 2  # tried, retried, kept
    finally:
        store.close()


# --- memory, in a process of its own ----------------------------------------------------------

GROWTH_MIB = 96  # the 64 MiB limit held at most, plus room for the decoder and the allocator


@pytest.mark.parametrize(
    ("service", "kind"),
    [(s, k) for s in ("plex", "stash") for k in ("gzip bomb", "1 GiB endless")],
)
def test_refusing_a_300_mib_bomb_or_a_1_gib_answer_does_not_inflate_the_process(
    service: str, kind: str
) -> None:
    sent, gzip = Sent(), bomb()
    bodies = {
        "gzip bomb": lambda: gzipped(gzip),
        "1 GiB endless": lambda: endless(2**30),
    }

    def script(number: int, request_line: str) -> Iterable[bytes]:
        path = path_of(request_line).split("?")[0]
        if service == "plex" and path == "/":
            return [whole(ROOT)]
        return sent.count(bodies[kind]())

    with scripted_server(script, max_bytes=2**30 + MIB) as url:
        result = run_child(service, url)
    growth = (int(str(result["peak_kib"])) - int(str(result["rss_kib"]))) / 1024
    assert result["error"] is not None and LIMIT_WORDS in str(result["error"])
    assert growth < GROWTH_MIB, f"the peak RSS grew by {growth:.0f} MiB"
    assert float(str(result["seconds"])) < 30
