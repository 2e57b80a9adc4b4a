"""The first sync's plan, said before its first write: how many Plex items, in which libraries.

Computed from what the first write would use: the queued jobs (after the first poll has read
all of Stash) matched against the path index of the selected libraries, as the pusher matches
them. Possible matches (a file name alone, `matching.PathIndex.find`) are counted apart: they
are held for the user, not written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.errors import AmbiguousMatchError, PossibleMatchError
from engine.plan.matching import PathIndex
from engine.store.jobs import Job, JobStore

if TYPE_CHECKING:
    from engine.config.file import PathMapping

PLAN_KEY = "first_sync_plan"
PAGE = 1000


@dataclass(frozen=True)
class FirstSyncPlan:
    items: int  # distinct Plex items the first sync writes
    libraries: tuple[tuple[str, int], ...]  # (library title, items), most first
    held: int  # scenes held back: possible or ambiguous matches (the DLQ names them)

    def describe(self) -> str:
        names = ", ".join(f"{title} ({n})" for title, n in self.libraries) or "none"
        text = f"first sync: {self.items} item(s) in libraries {names}"
        if self.held:
            text += f"; {self.held} scene(s) held back for you to confirm (see the DLQ)"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {"items": self.items, "libraries": [list(pair) for pair in self.libraries]}


def _jobs(store: JobStore) -> Iterator[Job]:
    offset = 0
    while page := store.list_jobs(limit=PAGE, offset=offset):
        yield from page
        offset += len(page)


def first_sync_plan(
    store: JobStore,
    index: PathIndex,
    mappings: list[PathMapping],
    section_titles: dict[str, str],
) -> FirstSyncPlan:
    """What the queued jobs would write, by library, as the index stands now."""
    items: dict[str, str] = {}  # rating key -> section key
    held = 0
    for job in _jobs(store):
        files = [str(p) for p in job.payload.get("files") or []]
        try:
            match = index.find(files, mappings) if files else None
        except (AmbiguousMatchError, PossibleMatchError):
            held += 1
            continue
        if match is not None:
            items[match.item.rating_key] = match.item.section_key
    counts = Counter(section_titles.get(key, key) for key in items.values())
    ordered = tuple(sorted(counts.items(), key=lambda pair: (-pair[1], pair[0])))
    return FirstSyncPlan(len(items), ordered, held)
