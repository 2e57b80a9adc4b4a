"""Limits on every answer the engine reads: its size, before and after decompression, and the
time its body may take (issue 22).

Without them one answer could take all the memory: 298 KiB of gzip decoded to a 300 MiB body,
and an endless chunked answer grew to 1.27 GB in 2 s (a read time-out never fires while bytes
keep coming); the engine thread then died with MemoryError.

How large: `MAX_ANSWER_BYTES` is 64 MiB, about 2.4 times the largest answer the engine asks
for. `bench/answer_sizes.py` builds each kind of page with the simulators' serializers and
heavy items (200 tags, 40 performers, 20 collections, a 2,000-character summary, a 250-character
path): a Plex section listing page of 1,000 items with every tag written out is 26.2 MiB (real
Plex truncates a listing's tags, so real pages are smaller), a Stash `findScenes` page of 500
scenes 7.8 MiB, the id-only listing of 100,000 tags 1.8 MiB, a batch of 50 full Plex items
1.3 MiB. Images have their own limit, `MAX_IMAGE_BYTES`.

How long: `ANSWER_SECONDS` bounds the whole body, checked between reads (each read is bounded
by the read time-out): 64 MiB at 1 MB/s, a slow remote link, takes about 67 s.

What an overrun is: the server misbehaving, not an outage and not a crash. The errors below are
requests exceptions (the transports raise requests' classes, `engine/plex/transport.py`), and
each client turns them into a `TransientError` that names the server.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import requests
import urllib3
from urllib3 import exceptions as u3

from engine.clock import Clock

MIB = 2**20
MAX_ANSWER_BYTES = 64 * MIB  # see the module docstring for the sizes it was set from
# A Stash screenshot is a JPEG frame of the video (a 4K frame is 1-3 MiB); a cover set by hand
# can be a lossless PNG (a 4K one is 10-25 MiB). More than this is no poster Plex should store.
MAX_IMAGE_BYTES = 32 * MIB
ANSWER_SECONDS = 120.0
CHUNK = 64 * 1024  # bytes per read: one read per 64 KiB keeps the checks cheap


class AnswerTooLargeError(requests.exceptions.RequestException):
    """The answer (as sent, or once decompressed) was larger than the limit."""


class AnswerTooSlowError(requests.exceptions.RequestException):
    """The answer's body took longer than the limit (bytes kept coming, too slowly)."""


@dataclass(frozen=True)
class AnswerLimits:
    max_bytes: int = MAX_ANSWER_BYTES
    seconds: float = ANSWER_SECONDS


DEFAULT_LIMITS = AnswerLimits()
IMAGE_LIMITS = AnswerLimits(max_bytes=MAX_IMAGE_BYTES)


def too_large(limit: int, what: str) -> AnswerTooLargeError:
    return AnswerTooLargeError(f"the answer was larger than {limit // MIB} MiB ({what})")


def check_declared(headers: Mapping[str, str], limit: int) -> None:
    """Refuse at once an answer whose Content-Length is over the limit (nothing is read)."""
    declared = next((v for k, v in headers.items() if k.lower() == "content-length"), "")
    first = declared.split(",")[0].strip()
    if first.isdigit() and int(first) > limit:
        raise too_large(limit, f"Content-Length {first}")


class Deadline:
    """The end of the time an answer's body may take, on the injected clock."""

    def __init__(self, clock: Clock, seconds: float) -> None:
        self._clock, self._seconds = clock, seconds
        self._end = clock.monotonic() + seconds

    def check(self) -> None:
        if self._clock.monotonic() > self._end:
            raise AnswerTooSlowError(f"the answer took longer than {self._seconds:.0f} s to arrive")


def read_limited(
    read1: Callable[[int], bytes],
    *,
    raw_read: Callable[[], int],
    limits: AnswerLimits,
    deadline: Deadline,
) -> bytes:
    """The whole body through `read1` (at most one network read per call, decoded bytes),
    refused once it, or the `raw_read()` bytes it came from, pass `limits`."""
    parts: list[bytes] = []
    size = 0
    while True:
        deadline.check()
        data = read1(CHUNK)
        if raw_read() > limits.max_bytes:
            raise too_large(limits.max_bytes, "as sent")
        if not data:
            return b"".join(parts)
        size += len(data)
        if size > limits.max_bytes:
            raise too_large(limits.max_bytes, "decompressed")
        parts.append(data)


class BoundedDecoder:
    """gzip or deflate decoding that makes at most `OUT_BYTES` per call, whatever the input
    (`zlib.decompressobj` with `max_length`, as urllib3 2.6+ decodes: its `response.py`
    `GzipDecoder`/`DeflateDecoder`); input left over waits in `unconsumed_tail`."""

    OUT_BYTES = MIB

    def __init__(self, coding: str) -> None:
        self._coding = coding
        wbits = zlib.MAX_WBITS if coding == "deflate" else 16 + zlib.MAX_WBITS
        self._obj = zlib.decompressobj(wbits)
        self._first = coding == "deflate"
        self._fed = False

    @property
    def pending(self) -> bool:
        """Input fed that is not decoded yet (call `feed(b"")` before reading more)."""
        return bool(self._obj.unconsumed_tail)

    def feed(self, data: bytes) -> bytes:
        self._fed = self._fed or bool(data)
        tail = self._obj.unconsumed_tail + data
        try:
            return self._obj.decompress(tail, self.OUT_BYTES)
        except zlib.error as exc:
            if not self._first:
                raise self._broken(exc) from exc
            # deflate is zlib-wrapped, or raw as some servers send it: try raw once
            self._first = False
            self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
            return self.feed(tail)
        finally:
            self._first = self._first and not data

    def finish(self) -> None:
        """At the end of the body: a compressed stream cut short is a broken answer."""
        if self._fed and not self._obj.eof:
            raise self._broken(zlib.error("the stream ended early"))

    def _broken(self, exc: zlib.error) -> requests.exceptions.ContentDecodingError:
        return requests.exceptions.ContentDecodingError(
            f"the answer's {self._coding} body could not be decoded: {exc}"
        )


def decoding_reader(
    read1: Callable[[int], bytes], coding: str
) -> tuple[Callable[[int], bytes], Callable[[], int]]:
    """`read1` of decoded bytes over `read1` of raw ones, and a count of the raw bytes read;
    gzip and deflate are decoded (bounded), any other coding is passed through."""
    raw = [0]

    def raw_read() -> int:
        return raw[0]

    def network(amt: int) -> bytes:
        data = read1(amt)
        raw[0] += len(data)
        return data

    if coding not in ("gzip", "x-gzip", "deflate"):
        return network, raw_read
    decoder = BoundedDecoder("deflate" if coding == "deflate" else "gzip")

    def decoded(amt: int) -> bytes:
        if decoder.pending:
            return decoder.feed(b"")
        while True:
            data = network(amt)
            if not data:
                decoder.finish()
                return b""
            out = decoder.feed(data)
            if out:  # nothing out yet (a header, a small piece): read on, b"" means the end
                return out

    return decoded, raw_read


def read_urllib3_body(
    answer: urllib3.BaseHTTPResponse, limits: AnswerLimits, deadline: Deadline
) -> bytes:
    """The body of a urllib3 answer, decoded, within `limits`; refused early, the connection is
    closed (never reused with part of an answer unread)."""
    try:
        check_declared(answer.headers, limits.max_bytes)
        return read_limited(
            lambda amt: answer.read1(amt, decode_content=True),
            raw_read=answer.tell,  # bytes read from the socket, before decoding
            limits=limits,
            deadline=deadline,
        )
    except requests.RequestException:
        answer.close()  # urllib3's close() closes the connection too
        raise
    except (u3.HTTPError, OSError) as exc:
        answer.close()
        raise body_error(exc) from exc


def body_error(exc: BaseException) -> requests.RequestException:
    """A failure while reading an answer's body, as requests names it when it reads one."""
    if isinstance(exc, u3.SSLError):
        return requests.exceptions.SSLError(exc)
    if isinstance(exc, u3.DecodeError):
        return requests.exceptions.ContentDecodingError(exc)
    if isinstance(exc, u3.ProtocolError):  # cut short, bad chunk
        return requests.exceptions.ChunkedEncodingError(exc)
    return requests.exceptions.ConnectionError(exc)  # a read timeout included, as requests does
