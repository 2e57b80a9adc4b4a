"""Fuzzed Stash answers: any shape of scene either parses into plain text and lists of text, or
fails on its own with the field named; a page never loses its good scenes to a bad one."""

from __future__ import annotations

import json
from typing import Any

import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.config.file import PlexSyncConfig
from engine.errors import PermanentError
from engine.stash.client import StashClient, parse_scene
from engine.stash.scene import PageQuery

FIELDS = ("id", "title", "details", "date", "updated_at", "studio", "performers", "tags", "files")
GOOD = {
    "id": "1",
    "title": "Good",
    "details": "",
    "date": "2024-01-02",
    "updated_at": "2025-01-01T00:00:00Z",
    "studio": {"name": "S"},
    "performers": [{"name": "P"}],
    "tags": [{"name": "T"}],
    "files": [{"path": "/data/a.mp4"}],
    "paths": {"screenshot": "http://stash/scene/1/screenshot"},
}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(FIELDS), json_values)
def test_any_field_value_parses_to_text_or_fails_naming_the_field(field: str, value: Any) -> None:
    raw = {**GOOD, field: value}
    try:
        scene = parse_scene(raw)
    except PermanentError as exc:
        assert f"field '{field}" in exc.message
        return
    assert conforms(field, value), f"{field}={value!r} became {scene}"  # never coerced to text
    for text in (scene.id, scene.title, scene.details, scene.date, scene.studio, scene.updated_at):
        assert isinstance(text, str)
    for many in (scene.performers, scene.tags, scene.files):
        assert all(isinstance(item, str) for item in many)


def conforms(field: str, value: Any) -> bool:
    """Whether `value` has the type Stash's schema gives `field`."""
    if field == "id":
        return isinstance(value, str | int) and not isinstance(value, bool)
    if field == "updated_at":
        return isinstance(value, str)
    if field in ("title", "details", "date"):
        return value is None or isinstance(value, str)
    if field == "studio":
        return value is None or (isinstance(value, dict) and isinstance(value.get("name"), str))
    key = "path" if field == "files" else "name"
    return value is None or (
        isinstance(value, list)
        and all(isinstance(v, dict) and isinstance(v.get(key), str) for v in value)
    )


# Issue 24's fields: each takes the type Stash's schema gives it, or fails naming the field.
NEWER = {
    "code": lambda v: v is None or isinstance(v, str),
    "director": lambda v: v is None or isinstance(v, str),
    "created_at": lambda v: v is None or isinstance(v, str),
    "rating100": lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool)),
    "organized": lambda v: v is None or isinstance(v, bool),
    "urls": lambda v: v is None or (isinstance(v, list) and all(isinstance(u, str) for u in v)),
    "stash_ids": lambda v: (
        v is None
        or (
            isinstance(v, list)
            and all(isinstance(s, dict) and isinstance(s.get("stash_id"), str) for s in v)
        )
    ),
    "groups": lambda v: (
        v is None
        or (
            isinstance(v, list)
            and all(
                isinstance(g, dict)
                and isinstance(g.get("group"), dict)
                and isinstance(g["group"].get("name"), str)
                and (
                    g.get("scene_index") is None
                    or (
                        isinstance(g["scene_index"], int) and not isinstance(g["scene_index"], bool)
                    )
                )
                for g in v
            )
        )
    ),
}


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(NEWER)), json_values)
def test_the_newer_fields_parse_to_their_types_or_fail_naming_the_field(
    field: str, value: Any
) -> None:
    try:
        scene = parse_scene({**GOOD, field: value})
    except PermanentError as exc:
        assert f"field '{field}" in exc.message
        return
    assert NEWER[field](value), f"{field}={value!r} became {scene}"
    assert scene.rating100 is None or 0 <= scene.rating100 <= 100  # out of range: unrated
    assert all(isinstance(name, str) for name in (*scene.urls, *scene.stash_ids, *scene.groups))


class OneAnswer(requests.Session):
    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__()
        self.body = body

    def request(self, method: str, url: str, **kw: Any) -> requests.Response:  # type: ignore[override]
        response = requests.Response()
        response.status_code = 200
        response._content = json.dumps(self.body).encode()
        response.url = url
        return response


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(FIELDS), json_values), min_size=1, max_size=6))
def test_a_page_keeps_its_good_scenes_whatever_the_bad_ones_hold(
    breakage: list[tuple[str, Any]],
) -> None:
    bad = [{**GOOD, "id": str(10 + n), field: value} for n, (field, value) in enumerate(breakage)]
    good = [{**GOOD, "id": "2"}, {**GOOD, "id": "3"}]
    body = {"data": {"findScenes": {"scenes": [good[0], *bad, good[1]]}}}
    config = PlexSyncConfig(plex_url="http://plex.invalid:32400", plex_token="t" * 20)
    client = StashClient(config, session_factory=lambda: OneAnswer(body))
    page = client.scene_page(PageQuery())
    client.close()
    ids = [scene.id for scene in page.scenes]
    assert ids[0] == "2" and ids[-1] == "3"
    assert len(page.scenes) + len(page.malformed) == page.rows == len(bad) + 2
    assert all(m.message.startswith("field '") for m in page.malformed)
