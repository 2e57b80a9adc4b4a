"""In-memory Plex and Stash for engine unit tests (the integration tier uses the simulators)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

from engine.errors import SyncError
from engine.plex.model import PlexItem, PlexSection
from engine.stash.objects import ObjectPage, StashObject
from engine.stash.scene import PageQuery, ScenePage, Screenshot, StashScene

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
        self.ratings: list[tuple[str, float]] = []
        self.scans: list[tuple[str, str]] = []
        self.arts: list[str] = []
        self.fail_with: SyncError | None = None  # every call raises this while set
        self.reject: dict[str, SyncError] = {}  # edits of these items raise

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if self.fail_with is not None:
            raise self.fail_with

    def probe(self) -> None:
        self._call("probe")

    def movie_sections(self) -> list[PlexSection]:
        self._call("sections")
        return [SECTION]

    def sweep(
        self, section: PlexSection, *, updated_since: int | None = None
    ) -> Iterator[PlexItem]:
        self._call("sweep")
        for item in list(self.items.values()):
            if updated_since is None or max(item.added_at, item.updated_at) >= updated_since:
                yield item

    def fetch_item(self, rating_key: str, section_key: str) -> PlexItem:
        self._call("fetch")
        return replace(self.items[rating_key], complete=True)

    def fetch_items(self, rating_keys: list[str], section_key: str) -> list[PlexItem]:
        self._call("fetch_items")
        return [replace(self.items[k], complete=True) for k in rating_keys if k in self.items]

    def edit(self, item: PlexItem, params: dict[str, str]) -> int | None:
        self._call("edit")
        if item.rating_key in self.reject:
            raise self.reject[item.rating_key]
        self.edits.append((item.rating_key, params))
        return None  # no Date header: what the edit leaves in Plex is not known

    def scan_folder(self, section_key: str, folder: str) -> None:
        self._call("scan")
        self.scans.append((section_key, folder))

    def rate(self, item: PlexItem, rating: float) -> None:
        self._call("rate")
        self.ratings.append((item.rating_key, rating))
        held = self.items[item.rating_key]
        self.items[item.rating_key] = replace(held, user_rating=None if rating < 0 else rating)

    def upload_art(self, item: PlexItem, image: bytes) -> None:
        self._call("art")
        self.arts.append(item.rating_key)

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
        self.requests: list[PageQuery] = []
        self.after_page: Callable[[list[str]], None] | None = None  # edits between pages
        self.objects: dict[str, dict[str, StashObject]] = {
            "tag": {},
            "performer": {},
            "studio": {},
            "group": {},
        }
        self.carrying: dict[tuple[str, str], list[str]] = {}  # (kind, object id) -> scene ids

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

    def scene_page(self, query: PageQuery) -> ScenePage:
        """Stash's order (updated_at, then title) and its text comparisons, page 1 only."""
        self.requests.append(query)
        if self.fail_with is not None:
            raise self.fail_with
        scenes = list(self.scenes.values())
        if query.after is not None and query.group_after_id is not None:
            after, low = query.after, query.group_after_id
            found = sorted(
                (s for s in scenes if s.updated_at == after and int(s.id) > low),
                key=lambda s: int(s.id),
            )
        else:
            found = sorted(
                (s for s in scenes if _after(s.updated_at, query)),
                key=lambda s: (s.updated_at, s.title.casefold()),
            )
        chosen = tuple(found[: query.size])
        keys = tuple((s.id, s.updated_at) for s in chosen)
        if self.after_page is not None:
            self.after_page([s.id for s in chosen])
        return ScenePage(chosen, (), len(chosen), keys)

    def object_page(self, kind: str, query: PageQuery) -> ObjectPage:
        """Stash's order (updated_at, then name); a whole timestamp for a group query."""
        if self.fail_with is not None:
            raise self.fail_with
        objects = list(self.objects[kind].values())
        if query.group_after_id is not None:
            found = [o for o in objects if o.updated_at == query.after]
        else:
            found = [o for o in objects if _after(o.updated_at, query)]
        found.sort(key=lambda o: (o.updated_at, o.name.casefold()))
        chosen = found if query.group_after_id is not None else found[: query.size]
        keys = tuple((o.id, o.updated_at) for o in chosen)
        return ObjectPage(tuple(chosen), len(chosen), keys, len(objects))

    def object_ids(self, kind: str) -> set[str]:
        return set(self.objects[kind])

    def scenes_carrying(self, kind: str, ids: list[str], after_id: int, size: int) -> ScenePage:
        wanted = {s for i in ids for s in self.carrying.get((kind, i), [])}
        found = sorted(int(s) for s in wanted if int(s) > after_id)[:size]
        return self.scenes_by_id([str(s) for s in found])

    def scenes_by_id(self, ids: list[str]) -> ScenePage:
        chosen = tuple(self.scenes[i] for i in ids if i in self.scenes)
        return ScenePage(chosen, (), len(chosen), tuple((s.id, s.updated_at) for s in chosen))

    def fetch_image(self, url: str) -> Screenshot:
        return Screenshot(url.encode())

    def close(self) -> None:
        pass


def _after(updated_at: str, query: PageQuery) -> bool:
    if query.after is None:
        return True
    return updated_at >= query.after if query.inclusive else updated_at > query.after
