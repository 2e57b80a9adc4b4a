"""The real plexapi 4.18 (with a requests.Session) against the Plex simulator."""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from plexapi.exceptions import BadRequest, NotFound, Unauthorized

from plexsync_sim.catalog import rel_path, title_from_path
from plexsync_sim.plex.server import PlexSimulator
from plexsync_sim.stash.server import StashSimulator

pytestmark = pytest.mark.integration

LISTING = "GET /library/sections/{id}/all"
EDIT = "PUT /library/sections/{id}/all"


def _tags(objects: list[Any]) -> list[str]:
    return [t.tag for t in objects]


def _set_genres(plex_server: Any, rating_key: int, genres: list[str]) -> None:
    movie = plex_server.fetchItem(rating_key)
    edits = {f"genre[{i}].tag.tag": g for i, g in enumerate(genres)}
    movie.edit(**edits, **{"genre.locked": 1})


# -- connecting and reading ---------------------------------------------------------------------
def test_connect_reads_root_and_sections(plex_sim: PlexSimulator, plex_server: Any) -> None:
    assert plex_server.machineIdentifier == plex_sim.machine_identifier
    sections = plex_server.library.sections()
    assert [(s.key, s.type, s.title) for s in sections] == [(1, "movie", "Movies")]
    assert sections[0].locations == ["/media"]
    assert plex_sim.stats()["by_route"]["GET /"] == 1


def test_all_pages_through_250_movies_by_container_headers(
    make_plex_sim: Callable[..., PlexSimulator], make_plex_server: Callable[..., Any]
) -> None:
    sim = make_plex_sim(movies=250, seed=7)
    section = make_plex_server(sim).library.section("Movies")
    sim.reset_stats()
    movies = section.all(container_size=100)
    assert len(movies) == 250
    assert sim.stats()["by_route"] == {LISTING: 3}
    first = movies[0]
    assert first.ratingKey == 1001
    assert first.locations == [f"/media/{rel_path(7, 1)}"]
    assert first.title == title_from_path(rel_path(7, 1))
    assert first.librarySectionID == 1
    assert first.studio is None and not first.summary and first.genres == []
    assert [m.ratingKey for m in movies] == list(range(1001, 1251))


def test_paging_by_query_parameters(plex_sim: PlexSimulator, http: requests.Session) -> None:
    answer = http.get(
        f"{plex_sim.url}/library/sections/1/all",
        params={"X-Plex-Container-Start": 10, "X-Plex-Container-Size": 5, "X-Plex-Token": "tok"},
    )
    assert answer.status_code == 200
    assert answer.headers["Content-Length"] == str(len(answer.content))
    assert 'size="5" totalSize="50" offset="10"' in answer.text
    assert answer.text.count("<Video ") == 5
    assert 'ratingKey="1011"' in answer.text


def test_total_view_size_and_includemeta(plex_server: Any) -> None:
    section = plex_server.library.section("Movies")
    assert section.totalViewSize() == 50
    assert "addedAt" in [s.key for s in section.listSorts()]


def test_search_by_title_contains(plex_sim: PlexSimulator, plex_server: Any) -> None:
    target = plex_server.fetchItem(1012)
    target.editTitle("Zebra Crossing Unique")
    section = plex_server.library.section("Movies")
    assert [m.ratingKey for m in section.search(title="crossing uniq")] == [1012]
    assert section.search(title="no such title anywhere") == []
    exact = section.fetchItems("/library/sections/1/all?type=1&title==Zebra%20Crossing%20Unique")
    assert [m.ratingKey for m in exact] == [1012]
    assert section.fetchItems("/library/sections/1/all?type=1&title==Zebra") == []


def test_fetch_item_and_comma_list(plex_server: Any) -> None:
    movie = plex_server.fetchItem(1003)
    assert movie.ratingKey == 1003
    both = plex_server.fetchItems([1002, 1005])
    assert [m.ratingKey for m in both] == [1002, 1005]
    assert plex_server.fetchItems("/library/metadata/1002,999999")[0].ratingKey == 1002


def test_added_at_filter_and_sort_find_new_movies(
    plex_sim: PlexSimulator, plex_server: Any
) -> None:
    before = int(time.time()) - 1
    new_key = plex_sim.add_movie(file="/media/New Studio/2024/fresh-arrival.mp4", title="Fresh")
    section = plex_server.library.section("Movies")
    fresh = section.fetchItems(f"/library/sections/1/all?type=1&addedAt>>={before}")
    assert [(m.ratingKey, m.title, m.locations) for m in fresh] == [
        (new_key, "Fresh", ["/media/New Studio/2024/fresh-arrival.mp4"])
    ]
    newest = section.search(sort="addedAt:desc", maxresults=2)
    assert [m.ratingKey for m in newest] == [new_key, 1050]
    assert len(section.all()) == 51


# -- editing ------------------------------------------------------------------------------------
def test_batch_edits_send_one_put_and_lock_fields(
    plex_sim: PlexSimulator, plex_server: Any
) -> None:
    movie = plex_server.fetchItem(1004)
    plex_sim.reset_stats()
    movie.batchEdits()
    movie.editTitle("Été à Paris").editStudio("Étoile Studio").editSummary("One.\n\nTwo.")
    movie.editOriginallyAvailable("2021-03-04").editTagline("CODE-4")
    movie.saveEdits()
    stats = plex_sim.stats()  # the section lookup adds GETs; the edits are one PUT
    assert stats["by_method"]["PUT"] == stats["by_route"][EDIT] == 1
    movie.reload()
    assert (movie.title, movie.studio, movie.summary) == (
        "Été à Paris",
        "Étoile Studio",
        "One.\n\nTwo.",
    )
    assert movie.originallyAvailableAt.strftime("%Y-%m-%d") == "2021-03-04"
    assert all(movie.isLocked(f) for f in ("title", "studio", "summary", "originallyAvailableAt"))
    item = plex_sim.item(1004)
    assert item is not None
    assert item["locked"] == ["originallyAvailableAt", "studio", "summary", "tagline", "title"]


def test_indexed_tag_list_replaces_the_whole_list(
    plex_sim: PlexSimulator, plex_server: Any
) -> None:
    _set_genres(plex_server, 1006, ["A", "B", "C"])
    _set_genres(plex_server, 1006, ["Z"])
    movie = plex_server.fetchItem(1006)
    movie.editTags("actor", ["Ava Rivers", "José García"])
    movie.editTags("collection", ["Aurora Pictures"])
    movie.reload()
    assert _tags(movie.genres) == ["Z"]
    assert _tags(movie.roles) == ["Ava Rivers", "José García"]
    assert _tags(movie.collections) == ["Aurora Pictures"]
    assert movie.isLocked("genre") and movie.isLocked("actor")


def test_removal_with_double_encoded_minus_equals(plex_server: Any) -> None:
    _set_genres(plex_server, 1007, ["Drama", "Comedy & Co", "50% Off, Really", "Keep"])
    movie = plex_server.fetchItem(1007)
    movie.removeGenre(["Drama", "Comedy & Co", "50% Off, Really"])
    movie.reload()
    # each name is quoted before the comma join, so commas and % inside names survive
    assert _tags(movie.genres) == ["Keep"]
    movie.removeGenre(["Kee", "keep"])  # exact names only, case-insensitive
    movie.reload()
    assert _tags(movie.genres) == []


def test_listing_objects_drop_hidden_tags_and_reload_avoids_it(
    plex_sim: PlexSimulator, plex_server: Any
) -> None:
    section = plex_server.library.section("Movies")
    for rating_key in (1008, 1009):
        _set_genres(plex_server, rating_key, ["A", "B", "C", "D"])
    listed = {m.ratingKey: m for m in section.all()}
    assert _tags(listed[1008].genres) == ["A", "B"]  # listings show two genres
    listed[1008].addGenre("E")  # the trap: sends A, B, E as the complete list
    assert plex_sim.item(1008)["genres"] == ["A", "B", "E"]  # type: ignore[index]
    safe = listed[1009]
    safe.reload()
    safe.addGenre("E")
    assert plex_sim.item(1009)["genres"] == ["A", "B", "C", "D", "E"]  # type: ignore[index]


def test_listing_truncates_roles_and_collections_but_full_item_has_all(plex_server: Any) -> None:
    movie = plex_server.fetchItem(1010)
    movie.editTags("actor", ["P1", "P2", "P3", "P4", "P5"])
    movie.editTags("collection", ["C1", "C2", "C3"])
    listed = next(m for m in plex_server.library.section("Movies").all() if m.ratingKey == 1010)
    assert _tags(listed.roles) == ["P1", "P2", "P3"]
    assert _tags(listed.collections) == ["C1", "C2"]  # like real Plex: two in listings
    movie.reload()
    assert _tags(movie.roles) == ["P1", "P2", "P3", "P4", "P5"]
    assert _tags(movie.collections) == ["C1", "C2", "C3"]
    assert {f.name for f in movie.fields} == {"actor", "collection"}


def test_unknown_edit_field_is_rejected(plex_sim: PlexSimulator, plex_server: Any) -> None:
    movie = plex_server.fetchItem(1011)
    with pytest.raises(BadRequest, match=r"^\(400\)"):
        movie.edit(**{"studioo.value": "typo"})
    with pytest.raises(BadRequest, match=r"^\(400\)"):
        movie.edit(**{"originallyAvailableAt.value": "March 4th"})
    assert plex_sim.item(1011)["studio"] is None  # type: ignore[index]


def test_edit_of_unknown_id_is_404(plex_server: Any, http: requests.Session) -> None:
    url = f"{plex_server._baseurl}/library/sections/1/all?id=999999&type=1&title.value=x"
    assert http.put(url, headers={"X-Plex-Token": "tok"}).status_code == 404


def test_upload_poster_as_bytes_and_by_url(
    plex_sim: PlexSimulator, stash_sim: StashSimulator, plex_server: Any
) -> None:
    image = b"\x89PNG\r\n\x1a\nnot-really-a-png"
    movie = plex_server.fetchItem(1013)
    movie.uploadPoster(filepath=io.BytesIO(image))
    assert plex_sim.item(1013)["poster_sha256"] == hashlib.sha256(image).hexdigest()  # type: ignore[index]
    shot_url = f"{stash_sim.url}/scene/13/screenshot?apikey=key"
    movie.uploadPoster(url=shot_url)
    item = plex_sim.item(1013)
    assert item is not None and item["poster_url"] == shot_url
    assert item["poster_sha256"] == hashlib.sha256(stash_sim.screenshot(13)).hexdigest()


def test_section_update_with_path_scans_pending_files(
    plex_sim: PlexSimulator, plex_server: Any
) -> None:
    plex_sim.add_pending("/media/Incoming/one.mp4", "Pending Uno")
    plex_sim.add_pending("/media/Elsewhere/two.mp4", "Pending Dos")
    section = plex_server.library.section("Movies")
    section.update(path="/media/Incoming")
    assert [m.title for m in section.search(title="Pending")] == ["Pending Uno"]
    assert plex_sim.stats()["by_route"]["GET /library/sections/{id}/refresh"] == 1
    section.update()
    assert [m.title for m in section.search(title="Pending")] == ["Pending Uno", "Pending Dos"]


# -- failures -----------------------------------------------------------------------------------
def test_wrong_token_raises_unauthorized(
    plex_sim: PlexSimulator, make_plex_server: Callable[..., Any]
) -> None:
    with pytest.raises(Unauthorized, match=r"^\(401\)"):
        make_plex_server(plex_sim, token="wrong")


def test_unknown_rating_key_raises_not_found(plex_server: Any) -> None:
    with pytest.raises(NotFound, match=r"^\(404\)"):
        plex_server.fetchItem(999_999)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_raise_bad_request(
    plex_sim: PlexSimulator, plex_server: Any, status: int
) -> None:
    plex_sim.add_fault(match=r"^GET /library/metadata/", status=status, count=1)
    with pytest.raises(BadRequest, match=rf"^\({status}\)"):
        plex_server.fetchItem(1001)
    assert plex_server.fetchItem(1001).ratingKey == 1001  # count=1 is used up


def test_429_carries_retry_after(
    plex_sim: PlexSimulator, plex_server: Any, http: requests.Session
) -> None:
    plex_sim.add_fault(match=r"^PUT /library", status=429, count=2, retry_after=7)
    movie = plex_server.fetchItem(1014)
    with pytest.raises(BadRequest, match=r"^\(429\)"):
        movie.editTitle("Nope")
    raw = http.put(
        f"{plex_sim.url}/library/sections/1/all?id=1014&type=1&title.value=x",
        headers={"X-Plex-Token": "tok"},
    )
    assert (raw.status_code, raw.headers["Retry-After"]) == (429, "7")
    movie.editTitle("Yes")
    assert plex_sim.item(1014)["title"] == "Yes"  # type: ignore[index]


def test_dropped_connection_raises_connection_error(
    plex_sim: PlexSimulator, plex_server: Any
) -> None:
    plex_sim.add_fault(match=r"^GET /library/metadata/1015$", drop=True, count=1)
    with pytest.raises(requests.ConnectionError):
        plex_server.fetchItem(1015)
    assert plex_server.fetchItem(1015).ratingKey == 1015


def test_delay_beyond_read_timeout_raises_read_timeout(
    plex_sim: PlexSimulator, make_plex_server: Callable[..., Any]
) -> None:
    plex = make_plex_server(plex_sim, timeout=(5, 0.3))
    plex_sim.add_fault(match=r"^GET /library/metadata/", status=None, delay=0.8, count=1)
    with pytest.raises(requests.ReadTimeout):
        plex.fetchItem(1016)


def test_delay_only_fault_answers_normally(plex_sim: PlexSimulator, http: requests.Session) -> None:
    plex_sim.add_fault(match=r"^GET /identity$", status=None, delay=0.3, count=1)
    started = time.monotonic()
    answer = http.get(f"{plex_sim.url}/identity", headers={"X-Plex-Token": "tok"})
    assert answer.status_code == 200 and time.monotonic() - started >= 0.3


def test_stopped_server_refuses_and_restart_keeps_state(
    plex_sim: PlexSimulator, plex_server: Any
) -> None:
    plex_server.fetchItem(1017).editTitle("Survives Outage")
    port = plex_sim.port
    plex_sim.stop()
    plex_sim.stop()  # idempotent
    with pytest.raises(requests.ConnectionError):
        plex_server.fetchItem(1017)
    plex_sim.start()
    assert plex_sim.port == port
    assert plex_server.fetchItem(1017).title == "Survives Outage"


def test_stop_closes_keep_alive_connections(plex_sim: PlexSimulator, plex_server: Any) -> None:
    plex_server.fetchItem(1018)  # leaves an idle keep-alive connection in the pool
    started = time.monotonic()
    plex_sim.stop()
    assert time.monotonic() - started < 1.5
    plex_sim.start()
    assert plex_server.fetchItem(1018).ratingKey == 1018


# -- inspection and control ---------------------------------------------------------------------
def test_keep_alive_serves_many_requests_on_one_connection(
    plex_sim: PlexSimulator, plex_server: Any
) -> None:
    before = plex_sim.stats()
    for _ in range(20):
        plex_server.fetchItem(1001)
    after = plex_sim.stats()
    assert after["requests"] - before["requests"] == 20
    assert after["connections"] == before["connections"] == 1


def test_stats_endpoint_counts_only_real_requests(
    plex_sim: PlexSimulator, plex_server: Any, http: requests.Session
) -> None:
    plex_server.library.section("Movies").all()
    stats = http.get(f"{plex_sim.url}/__sim__/stats").json()
    assert stats["by_method"]["GET"] == stats["requests"] >= 4
    assert http.get(f"{plex_sim.url}/__sim__/stats").json()["requests"] == stats["requests"]
    assert http.delete(f"{plex_sim.url}/__sim__/stats").json()["requests"] == 0
    assert plex_sim.stats()["requests"] == 0


def test_fault_and_movies_control_over_http(
    plex_sim: PlexSimulator, http: requests.Session
) -> None:
    fault = {"match": "GET /identity", "status": 503, "count": None, "retry_after": 2}
    assert http.post(f"{plex_sim.url}/__sim__/fault", json=fault).status_code == 200
    headers = {"X-Plex-Token": "tok"}
    for _ in range(3):
        assert http.get(f"{plex_sim.url}/identity", headers=headers).status_code == 503
    assert http.delete(f"{plex_sim.url}/__sim__/fault").status_code == 200
    assert http.get(f"{plex_sim.url}/identity", headers=headers).status_code == 200
    bad = http.post(f"{plex_sim.url}/__sim__/fault", json={"match": "(", "status": 503})
    assert bad.status_code == 400
    made = http.post(
        f"{plex_sim.url}/__sim__/movies", json={"file": "/media/a/b.mp4", "title": "B"}
    )
    rating_key = made.json()["ratingKey"]
    items = http.get(f"{plex_sim.url}/__sim__/items").json()
    assert items == plex_sim.items() and len(items) == 51
    assert items[-1]["ratingKey"] == rating_key and items[-1]["files"] == ["/media/a/b.mp4"]
    assert set(items[0]) >= {
        "ratingKey", "title", "studio", "summary", "originallyAvailableAt", "genres", "actors",
        "collections", "files", "locked", "poster_sha256",
    }  # fmt: skip


def test_hundred_thousand_movies_page_cheaply(
    make_plex_sim: Callable[..., PlexSimulator], make_plex_server: Callable[..., Any]
) -> None:
    sim = make_plex_sim(movies=100_000, seed=3)
    section = make_plex_server(sim).library.section("Movies")
    started = time.monotonic()
    tail = section.search(container_start=99_990, container_size=10, maxresults=10)
    assert [m.ratingKey for m in tail] == list(range(100_991, 101_001))
    assert tail[-1].locations == [f"/media/{rel_path(3, 100_000)}"]
    assert section.totalViewSize() == 100_000
    assert time.monotonic() - started < 5


def test_identity_answers_without_a_token_like_real_plex(
    plex_sim: PlexSimulator, http: requests.Session
) -> None:
    identity = http.get(f"{plex_sim.url}/identity")
    assert identity.status_code == 200 and b"machineIdentifier" in identity.content
    assert http.get(f"{plex_sim.url}/library/sections").status_code == 401


def test_login_page_mode_answers_html_with_200(
    plex_sim: PlexSimulator, http: requests.Session
) -> None:
    http.post(f"{plex_sim.url}/__sim__/login_page")
    answer = http.get(f"{plex_sim.url}/library/sections", headers={"X-Plex-Token": "tok"})
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/html")
    http.delete(f"{plex_sim.url}/__sim__/login_page")
    answer = http.get(f"{plex_sim.url}/library/sections", headers={"X-Plex-Token": "tok"})
    assert answer.content.lstrip().startswith(b"<?xml")
