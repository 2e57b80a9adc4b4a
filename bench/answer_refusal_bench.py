"""What refusing a hostile answer costs: peak RSS and time (issue 22, point 4).

Run with ``.venv/bin/python bench/answer_refusal_bench.py [--runs 3]``. A hostile server in this
process sends, to the engine's Plex client and to its Stash client (each in a child process of
its own, `tests/adversarial/answer_child.py`, so the RSS is the client's): a gzip bomb (298 KiB
that inflate to 300 MiB) and an endless chunked answer (cut by the server after 1 GiB, which a
client without limits reads whole). Printed: the child's RSS before the request, its peak
(VmHWM) after it, the growth, the seconds the request took, what the server sent, and how the
request ended. Medians of ``--runs``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the hostile server and the child (which puts ROOT on the path for the engine)
sys.path.insert(0, str(ROOT / "tests" / "adversarial"))

import hostile_http as hostile  # noqa: E402
from answer_child import run_child  # noqa: E402

GIB = 2**30
JSON = "application/json"


def one(service: str, body: Callable[[], Iterator[bytes]]) -> dict[str, float | str]:
    sent = hostile.Sent()

    def script(number: int, request_line: str) -> Iterable[bytes]:
        if service == "plex" and hostile.path_of(request_line).split("?")[0] == "/":
            return [hostile.whole(hostile.ROOT)]
        return sent.count(body())

    with hostile.scripted_server(script, max_bytes=GIB + 2**20) as url:
        result = run_child(service, url)
    before, peak = int(str(result["rss_kib"])) / 1024, int(str(result["peak_kib"])) / 1024
    error = result["error"]
    ended = "no error" if not isinstance(error, list) else f"{error[1]}: {error[2]}"
    return {
        "rss": before,
        "peak": peak,
        "growth": peak - before,
        "seconds": float(str(result["seconds"])),
        "sent": sent.bytes / 2**20,
        "ended": ended,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    bomb = hostile.gzip_bomb(300)
    cases: list[tuple[str, str, Callable[[], Iterator[bytes]]]] = [
        ("plex", "300 MiB gzip bomb", lambda: hostile.gzipped(bomb)),
        ("plex", "1 GiB endless chunked", lambda: hostile.endless(GIB)),
        (
            "stash",
            "300 MiB gzip bomb",
            lambda: hostile.gzipped(bomb, content_type=JSON),
        ),
        (
            "stash",
            "1 GiB endless chunked",
            lambda: hostile.endless(GIB, content_type=JSON),
        ),
    ]
    print(
        "| client | answer | RSS before MiB | peak RSS MiB | growth MiB | refused in s "
        "| server sent MiB | ended as |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for service, what, body in cases:
        results = [one(service, body) for _ in range(runs)]
        med = {
            k: statistics.median(float(r[k]) for r in results) for k in results[0] if k != "ended"
        }
        print(
            f"| {service} | {what} | {med['rss']:.0f} | {med['peak']:.0f} | {med['growth']:.0f} "
            f"| {med['seconds']:.2f} | {med['sent']:.1f} | {results[-1]['ended']} |"
        )


if __name__ == "__main__":
    main()
