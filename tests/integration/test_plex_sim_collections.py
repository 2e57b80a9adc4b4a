"""The Plex simulator's collection-side edits and database restores, driven by plexapi itself.

Real Plex does not change a movie's `updatedAt` when a collection's members are edited from the
collection's side (PlexKodiConnect issues #689 and #2095), and a restore from one of Plex's
scheduled backups takes items and their `updatedAt` back in time.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from plexapi.collection import Collection

from plexsync_sim.plex.server import PlexSimulator

pytestmark = pytest.mark.integration


def _tags(tags: list[Any]) -> list[str]:
    return [tag.tag for tag in tags]


def test_collection_side_edits_change_members_but_not_updated_at(
    plex_sim: PlexSimulator, plex_server: Any
) -> None:
    movie = plex_server.fetchItem(1003)
    movie.editTags("collection", ["Ours"])
    movie.reload()
    stamp = plex_sim.item(1003)["updatedAt"]  # type: ignore[index]
    section = plex_server.library.section("Movies")
    other = plex_server.fetchItem(1004)
    kometa = plex_server.createCollection("Kometa Best", section, items=[movie])
    assert isinstance(kometa, Collection) and kometa.ratingKey
    kometa.addItems([other])
    movie.reload()
    assert _tags(movie.collections) == ["Ours", "Kometa Best"]
    assert plex_sim.item(1004)["collections"] == ["Kometa Best"]  # type: ignore[index]
    ours = plex_server.fetchItem(f"/library/collections/{plex_sim.collection_add('Ours', [])}")
    ours.removeItems([movie])
    movie.reload()
    assert _tags(movie.collections) == ["Kometa Best"]
    assert [m.ratingKey for m in kometa.items()] == [1003, 1004]
    assert plex_sim.item(1003)["updatedAt"] == stamp  # Plex does not mark the movie changed
    titles = {c.get("title") for c in plex_server.query("/library/sections/1/collections")}
    assert titles == {"Ours", "Kometa Best"}


def test_collection_side_edit_with_unknown_item_or_collection_is_refused(
    plex_sim: PlexSimulator, http: requests.Session
) -> None:
    key = plex_sim.collection_add("Mine", [1002])
    base = f"{plex_sim.url}/library/collections"
    headers = {"X-Plex-Token": plex_sim.token}
    uri = "server://x/com.plexapp.plugins.library/library/metadata/999999"
    assert http.put(f"{base}/{key}/items", params={"uri": uri}, headers=headers).status_code == 404
    assert http.delete(f"{base}/{key + 50}/items/1002", headers=headers).status_code == 404
    assert plex_sim.item(1002)["collections"] == ["Mine"]  # type: ignore[index]


def test_restore_from_a_backup_takes_metadata_and_updated_at_back(
    http: requests.Session,
) -> None:
    clock = [1_800_000_000.0]
    with PlexSimulator(token="tok", movies=5, now=lambda: clock[0]) as sim:
        sim.set_tags(1002, "genre", ["Before"])
        before = sim.item(1002)
        saved = http.post(f"{sim.url}/__sim__/backup").json()["backup"]
        clock[0] += 3600
        sim.set_tags(1002, "genre", ["After"])
        sim.add_movie("/media/new/x.mp4")
        assert sim.item(1002)["updatedAt"] > before["updatedAt"]  # type: ignore[index]
        answer = http.post(f"{sim.url}/__sim__/restore", json={"backup": saved})
        assert answer.status_code == 200
        assert sim.item(1002) == before  # older than the edit made since
        assert len(sim.items()) == 5
        assert http.post(f"{sim.url}/__sim__/restore", json={"backup": 7}).status_code == 400
