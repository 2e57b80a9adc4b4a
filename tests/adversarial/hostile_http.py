"""A scripted HTTP/1.1 server on 127.0.0.1 for hostile answers: keep-alive, one thread per
connection, each request answered by `script(number, request_line)` as a stream of byte strings
(sent as they come, so an endless answer is a generator). Bounded: it stops at the context's
end, when the client goes away, or after `max_bytes` sent on one answer."""

from __future__ import annotations

import socket
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

Script = Callable[[int, str], Iterable[bytes]]
ROOT = b'<MediaContainer size="0" machineIdentifier="m1" version="1.40.0"/>'


@contextmanager
def scripted_server(script: Script, *, max_bytes: int = 4 * 2**30) -> Iterator[str]:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()
    threads: list[threading.Thread] = []
    count = [0]
    lock = threading.Lock()

    def answer(conn: socket.socket) -> None:
        conn.settimeout(5)
        reader = conn.makefile("rb")
        with conn, reader:
            while not stop.is_set():
                head = _read_head(reader)
                if head is None:
                    return
                with lock:
                    count[0] += 1
                    number = count[0]
                sent = 0
                try:
                    for piece in script(number, head):
                        if stop.is_set() or sent > max_bytes:
                            return
                        conn.sendall(piece)
                        sent += len(piece)
                except OSError:  # the client closed the connection: what a limit does
                    return

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            worker = threading.Thread(target=answer, args=(conn,), daemon=True)
            threads.append(worker)
            worker.start()

    acceptor = threading.Thread(target=serve, daemon=True)
    acceptor.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        acceptor.join(5)
        listener.close()
        for worker in threads:
            worker.join(10)
        assert not acceptor.is_alive() and not any(w.is_alive() for w in threads)


def _read_head(reader: Any) -> str | None:
    """The request line; the header is read and a Content-Length body skipped."""
    try:
        line = reader.readline(65536)
        if not line:
            return None
        length = 0
        while True:
            field = reader.readline(65536)
            if field in (b"\r\n", b"\n", b""):
                break
            name, _, value = field.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        if length:
            reader.read(length)
    except OSError:
        return None
    return line.decode("latin-1").strip()


def path_of(request_line: str) -> str:
    """The path of a request line, also when a proxy is sent the absolute URL."""
    target = request_line.split(" ")[1]
    if "://" in target:
        target = "/" + target.split("/", 3)[3] if target.count("/") >= 3 else "/"
    return target


def whole(body: bytes, *, content_type: str = "text/xml", extra: str = "") -> bytes:
    head = (
        f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n{extra}\r\n"
    )
    return head.encode() + body


def chunked_head(*, content_type: str = "text/xml", extra: str = "") -> bytes:
    head = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n"
    return (head + extra + "\r\n").encode()


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def gzip_bomb(decoded_mib: int) -> bytes:
    """`decoded_mib` MiB of zeros as gzip, built a MiB at a time (300 MiB is 298 KiB)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(2**20)
    parts = [packer.compress(zeros) for _ in range(decoded_mib)]
    return b"".join(parts) + packer.flush()


class Sent:
    """What a hostile answer has handed the server so far, in bytes (the socket's buffers hold
    at most a few MiB of it), so a test can show where the client stopped reading."""

    def __init__(self) -> None:
        self.bytes = 0

    def count(self, pieces: Iterable[bytes]) -> Iterator[bytes]:
        for piece in pieces:
            self.bytes += len(piece)
            yield piece


def sized_head(length: int, *, content_type: str = "text/xml", extra: str = "") -> bytes:
    """A 200's header that says the body is `length` bytes long."""
    head = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\n"
    return (head + extra + "\r\n").encode()


def gzipped(body: bytes, *, content_type: str = "text/xml") -> Iterator[bytes]:
    """`body` (gzip bytes) as a gzip-encoded answer with its true Content-Length, 64 KiB a piece."""
    yield sized_head(len(body), content_type=content_type, extra="Content-Encoding: gzip\r\n")
    for start in range(0, len(body), 65536):
        yield body[start : start + 65536]


def declared(
    length: int, *, sent: int = 16 * 2**20, content_type: str = "text/xml"
) -> Iterator[bytes]:
    """An answer that says it is `length` bytes long and then sends `sent` of them."""
    yield sized_head(length, content_type=content_type)
    zeros = bytes(65536)
    for _ in range(sent // len(zeros)):
        yield zeros


def endless(total: int, *, content_type: str = "text/xml") -> Iterator[bytes]:
    """A chunked answer of 64 KiB chunks that never ends by itself: cut after `total` bytes
    (no last chunk), which is the bound for a client that never stops reading."""
    yield chunked_head(content_type=content_type)
    piece = chunk(b" " * 65536)
    for _ in range(total // 65536):
        yield piece


def dribble(
    tick: Callable[[], None], pieces: int, *, content_type: str = "text/xml"
) -> Iterator[bytes]:
    """A chunked answer of one byte at a time, `tick()` between bytes (a fake clock's second),
    never slow enough for a read time-out; cut after `pieces` bytes."""
    yield chunked_head(content_type=content_type)
    for _ in range(pieces):
        yield chunk(b" ")
        tick()
