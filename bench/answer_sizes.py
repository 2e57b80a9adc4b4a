"""The largest answers the engine reads, built by the simulators' own serializers (issue 22).

Prints the byte size of each kind of page with deliberately heavy items, next to the answer
limit in `engine/http/limits.py`, so the limit is shown to be well above the largest:

- a Plex section listing page (`PAGE_SIZE` 1,000 items) with every tag written out whole (real
  Plex truncates a listing's tags, as the simulator does; this does not, to stay on the safe
  side), by the Plex simulator's XML serializer;
- a Plex batch read of full items (`fetch_items`, at most the dispatcher's batch of 50);
- a Stash `findScenes` page (`PAGE_SIZE` 500 scenes) and the id-only listing of 100,000 tags:
  the engine's own queries, sent by its `StashClient` to the Stash simulator, whose GraphQL
  answers are measured as they arrive.

A heavy item: 200 tags (Stash tags become Plex genres), 40 performers, 20 collections, names of
40 characters, a 2,000-character summary, a 250-character path (3 files per Stash scene).

Usage: python bench/answer_sizes.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from engine.config.file import PlexSyncConfig  # noqa: E402
from engine.http.limits import MAX_ANSWER_BYTES, MIB  # noqa: E402
from engine.plex.client import PAGE_SIZE as PLEX_PAGE  # noqa: E402
from engine.push.dispatch import BATCH  # noqa: E402
from engine.stash.client import StashClient  # noqa: E402
from engine.stash.scene import PAGE_SIZE as STASH_PAGE  # noqa: E402
from engine.stash.scene import PageQuery  # noqa: E402
from plexsync_sim.plex.library import PlexMovie  # noqa: E402
from plexsync_sim.plex.xml import container, video  # noqa: E402
from plexsync_sim.stash.objects import StashObject  # noqa: E402
from plexsync_sim.stash.server import StashSimulator  # noqa: E402

TAGS, ACTORS, COLLECTIONS, NAME, SUMMARY, PATH = 200, 40, 20, 40, 2000, 250
ID_ONLY_TAGS = 100_000
API_KEY = "bench-key-0123456789"


def _names(kind: str, count: int) -> list[str]:
    return [f"{kind}-{n:04d}-".ljust(NAME, "x") for n in range(count)]


def _path(n: int, copy: int = 0) -> str:
    stem = f"/data/{n:06d}-{copy}-"
    return stem + "p" * (PATH - len(stem) - 4) + ".mp4"


def heavy_movie(rating_key: int) -> PlexMovie:
    fields = {
        "title": "T" * 200,
        "titleSort": "T" * 200,
        "originalTitle": "O" * 200,
        "studio": "S" * 80,
        "summary": "s" * SUMMARY,
        "tagline": "CODE-12345",
        "originallyAvailableAt": "2024-01-02",
    }
    tags = {
        "genre": _names("genre", TAGS),
        "actor": _names("actor", ACTORS),
        "collection": _names("collection", COLLECTIONS),
    }
    path = _path(rating_key)
    return PlexMovie(rating_key, path, 1_700_000_000, 1_700_000_000, fields, tags, {"genre"})


def plex_page(count: int) -> int:
    """Bytes of a MediaContainer of `count` heavy movies, every tag written (`full`)."""
    videos = (
        video(heavy_movie(100_000 + n), full=True, section_id="1", section_title="Movies")
        for n in range(count)
    )
    return len(container(videos, size=count, totalSize=count, librarySectionID="1"))


class Measured(requests.Session):
    """A session that notes the size of every answer body it is handed."""

    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []
        self.hooks["response"].append(self._note)

    def _note(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.sizes.append(len(response.content))


def bulk_load_tags(stash: StashSimulator, count: int) -> None:
    """`count` more tags in the simulator's own object store; put there directly, since its
    `create` checks each name against every tag (quadratic: hours for 100,000)."""
    tags = stash.store.objects._objects["tag"]
    first = max(tags) + 1
    for n in range(count):
        tags[first + n] = StashObject("tag", first + n, f"bench-tag-{n:06d}", 1, 1)


def stash_pages() -> tuple[int, int]:
    """Bytes of a findScenes page of heavy scenes and of the id-only listing of many tags."""
    with StashSimulator(api_key=API_KEY, scenes=STASH_PAGE) as stash:
        for n in range(1, STASH_PAGE + 1):
            stash.update_scene(
                n,
                title="T" * 200,
                details="d" * SUMMARY,
                studio="S" * 80,
                performers=_names("actor", ACTORS),
                tags=_names("tag", TAGS),
                files=[_path(n, copy) for copy in range(3)],
            )
        bulk_load_tags(stash, ID_ONLY_TAGS)
        session = Measured()
        config = PlexSyncConfig(stash_url=stash.url, stash_api_key=API_KEY)
        client = StashClient(config, session_factory=lambda: session, timeout=(5, 120))
        try:
            page = client.scene_page(PageQuery(size=STASH_PAGE))
            assert len(page.scenes) == STASH_PAGE
            scenes = session.sizes[-1]
            ids = client.object_ids("tag")
            assert len(ids) >= ID_ONLY_TAGS
            return scenes, session.sizes[-1]
        finally:
            client.close()


def main() -> None:
    start = time.monotonic()
    scenes, tag_ids = stash_pages()
    rows = [
        (f"Plex listing page, {PLEX_PAGE} items, all tags", plex_page(PLEX_PAGE)),
        (f"Plex full items, batch of {BATCH}", plex_page(BATCH)),
        (f"Stash findScenes page, {STASH_PAGE} scenes", scenes),
        (f"Stash id-only listing, {ID_ONLY_TAGS:,} tags", tag_ids),
    ]
    largest = max(size for _, size in rows)
    for what, size in rows:
        print(f"{what:45} {size / MIB:8.2f} MiB")
    limit = MAX_ANSWER_BYTES / MIB
    print(f"{'answer limit (MAX_ANSWER_BYTES)':45} {limit:8.2f} MiB")
    print(f"{'limit / largest page':45} {MAX_ANSWER_BYTES / largest:8.2f} x")
    print(f"({time.monotonic() - start:.0f} s)")


if __name__ == "__main__":
    main()
