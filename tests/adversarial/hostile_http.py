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
