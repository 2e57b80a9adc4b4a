"""A Plex item as the simulator holds it after a sync with every issue-24 option on, for the
README: one Stash scene with every field set, synced by the real engine into the Plex simulator.

    .venv/bin/python tools/sample_item.py
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO)]

from engine.config.file import PlexSyncConfig  # noqa: E402
from engine.plex.client import PlexClient  # noqa: E402
from engine.stash.client import StashClient  # noqa: E402
from engine.store.jobs import JobStore  # noqa: E402
from engine.sync.engine import SyncEngine  # noqa: E402
from plexsync_sim.plex.server import PlexSimulator  # noqa: E402
from plexsync_sim.stash.server import StashSimulator  # noqa: E402

SHOWN = (
    "title", "titleSort", "studio", "summary", "tagline", "contentRating",
    "originallyAvailableAt", "addedAt", "userRating", "genres", "labels", "actors",
    "directors", "collections", "locked",
)  # fmt: skip


def main() -> None:
    with (
        PlexSimulator(token="tok", movies=3, seed=2) as plex,
        StashSimulator(api_key="key", scenes=3, seed=2) as stash,
        tempfile.TemporaryDirectory() as tmp,
    ):
        scene = next(s for n in (1, 2, 3) if (s := stash.scene(n)) and s["files"])
        stash.update_scene(
            scene["id"],
            title="Night Shift",
            details="Two strangers share the last train home.",
            date="2024-05-06",
            code="NS-042",
            director="Dee Rector",
            rating100=90,
            tags=["Drama", "Night", "Series A"],
            performers=["Ada Lane", "Ben Stone"],
            studio="Studio S",
        )
        config = PlexSyncConfig(
            plex_url=plex.url,
            plex_token="tok",
            stash_url=stash.url,
            stash_api_key="key",
            path_mappings=[{"stash_prefix": "/data", "plex_prefix": "/media"}],
            content_rating="XXX",
            sync_added_at=True,
            sync_sort_title=True,
            tags_as="both",
            tag_collections=["Series A"],
            sync_art=True,
            poster_shape="portrait",
        )
        store = JobStore(Path(tmp) / "plexsync.sqlite3")
        engine = SyncEngine(
            config=config,
            store=store,
            plex_factory=PlexClient,
            stash_factory=StashClient,
            rng=random.Random(0),
            idle_probes=False,
        )
        try:
            for _ in range(200):
                engine.tick(budget=5.0)
                if engine.status().pending == 0 and store.has_pushed():
                    break
        finally:
            engine.close()
            store.close()
        wanted = {p.replace("/data", "/media", 1) for p in scene["files"]}
        item = next(i for i in plex.items() if wanted & set(i["files"]))
        shown = {key: item[key] for key in SHOWN}
        shown["poster"] = "a 2:3 JPEG made from the screenshot" if item["poster_sha256"] else None
        shown["art"] = "the screenshot" if item["art_sha256"] else None
        lines = [
            f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in shown.items()
        ]
        print("{\n" + ",\n".join(lines) + "\n}")


if __name__ == "__main__":
    main()
