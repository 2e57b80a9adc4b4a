"""In-memory Plex and Stash for engine unit tests (the integration tier uses the simulators)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from engine.errors import SyncError
from engine.plex_model import PlexItem, PlexSection
from engine.stash_client import StashScene

SECTION = PlexSection("1", "Movies")


def item(rating_key: str, path: str, added_at: int) -> PlexItem:
    return PlexItem(
        rating_key, "1", path.rsplit("/", 1)[-1], "", "", "", (), (), (), (path,), added_at
    )


class FakePlex:
    def __init__(self, files: list[str]) -> None:
        self.items = {
            str(1000 + n): PlexItem(
                str(1000 + n), "1", f"file {n}", "", "", "", (), (), (), (f,), n
            )
            for n, f in enumerate(files)
        }
        self.calls: list[str] = []
        self.edits: list[tuple[str, dict[str, str]]] = []
        self.posters: list[str] = []
        self.fail_with: SyncError | None = None  # every call raises this while set

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if self.fail_with is not None:
            raise self.fail_with

    def probe(self) -> None:
        self._call("probe")

    def movie_sections(self) -> list[PlexSection]:
        self._call("sections")
        return [SECTION]

    def sweep(self, section: PlexSection, *, added_since: int | None = None) -> Iterator[PlexItem]:
        self._call("sweep")
        for item in list(self.items.values()):
            if added_since is None or item.added_at > added_since:
                yield item

    def fetch_item(self, rating_key: str, section_key: str) -> PlexItem:
        self._call("fetch")
        return replace(self.items[rating_key], complete=True)

    def edit(self, item: PlexItem, params: dict[str, str]) -> None:
        self._call("edit")
        self.edits.append((item.rating_key, params))

    def upload_poster(self, item: PlexItem, image: bytes) -> None:
        self._call("poster")
        self.posters.append(item.rating_key)

    def close(self) -> None:
        pass


class FakeStash:
    def __init__(self) -> None:
        self.scenes: dict[str, StashScene] = {}
        self.clock = 0
        self.fail_with: SyncError | None = None

    def put(self, n: int, **fields: object) -> None:
        self.clock += 1
        base = {
            "id": str(n),
            "title": f"Scene {n}",
            "details": "",
            "date": "2024-01-02",
            "studio": "Studio",
            "performers": ("A", "B"),
            "tags": ("x", "y"),
            "files": (f"/data/{n}.mp4",),
            "screenshot": "",
            "updated_at": f"2025-01-01T00:00:{self.clock:02d}Z",
        }
        base.update(fields)
        self.scenes[str(n)] = StashScene(**base)  # type: ignore[arg-type]

    def changed_scenes(self, since: str | None) -> Iterator[list[StashScene]]:
        if self.fail_with is not None:
            raise self.fail_with
        found = sorted(
            (s for s in self.scenes.values() if since is None or s.updated_at > since),
            key=lambda s: s.updated_at,
        )
        yield found

    def fetch_image(self, url: str) -> bytes:
        return url.encode()

    def close(self) -> None:
        pass
