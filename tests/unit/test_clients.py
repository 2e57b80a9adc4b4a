"""Error classification at the two client boundaries, with canned HTTP answers."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from plexapi.exceptions import BadRequest, NotFound, Unauthorized

from engine.config.file import PlexSyncConfig
from engine.errors import (
    AuthError,
    ErrorClass,
    PermanentError,
    StashGoneError,
    StashQueryError,
    SyncError,
    TransientError,
    UnreachableError,
)
from engine.plex.client import PlexClient
from engine.plex.model import PlexItem
from engine.stash.client import StashClient, parse_scene, poster_bytes
from engine.stash.scene import PageQuery

CONFIG = PlexSyncConfig(
    plex_url="http://plex.invalid:32400", plex_token="t" * 20, stash_api_key="k" * 20
)


class CannedSession(requests.Session):
    def __init__(self, *answers: Any) -> None:
        super().__init__()
        self.answers = list(answers)
        self.sent: list[dict[str, Any]] = []

    def request(self, method: str, url: str, **kw: Any) -> requests.Response:  # type: ignore[override]
        self.sent.append({"method": method, "url": url, **kw})
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, body = answer
        response = requests.Response()
        response.status_code = status
        response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
        response.url = url
        response.reason = "reason"
        return response


def stash(*answers: Any) -> tuple[StashClient, CannedSession]:
    session = CannedSession(*answers)
    return StashClient(CONFIG, session_factory=lambda: session), session


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (requests.ConnectionError("refused"), UnreachableError),
        (requests.ReadTimeout("slow"), UnreachableError),
        ((401, b"Unauthorized"), AuthError),
        ((502, b"bad gateway"), TransientError),
        ((422, {"errors": [{"message": "bad enum"}]}), PermanentError),
        ((200, b"<html>not json"), TransientError),
        ((200, {"errors": [{"message": "database is locked"}]}), TransientError),
        # Errors inside a 200 come from resolvers (gqlgen answers 422 to bad queries); a closing
        # database is transient, like a locked one.
        ((200, {"errors": [{"message": "sql: connection is already closed"}]}), TransientError),
        ((422, {"errors": [{"message": "Cannot query field"}]}), PermanentError),
        ((200, {"nodata": 1}), TransientError),
    ],
)
def test_stash_errors_are_classified(answer: Any, expected: type[SyncError]) -> None:
    client, _ = stash(answer)
    with pytest.raises(expected):
        client.version()


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        # pkg/sqlite/tag.go FindMany, as the real Stash answers (tests/conformance)
        ("tag with id 123 not found", StashGoneError),
        ("scene with id 7 not found", StashGoneError),
        ("id 5 does not exist in tags", StashQueryError),
        ("unknown sort: whatever", StashQueryError),
    ],
)
def test_a_resolver_error_about_the_request_is_stashs_answer_not_busy(
    message: str, expected: type[SyncError]
) -> None:
    """Issue 21: such an error fails that request with Stash's words; it is not an outage."""
    client, _ = stash((200, {"data": None, "errors": [{"message": message, "path": ["x"]}]}))
    with pytest.raises(expected) as caught:
        client.version()
    assert not isinstance(caught.value, TransientError)
    assert caught.value.message == message and caught.value.service == "stash"


def test_stash_sends_api_key_header_and_timeouts() -> None:
    client, session = stash((200, {"data": {"version": {"version": "v0.28.1"}}}))
    assert client.version() == "v0.28.1"
    sent = session.sent[0]
    assert sent["timeout"] == (5.0, 30.0)
    assert session.headers["ApiKey"] == "k" * 20
    assert "k" * 20 not in sent["url"]


def test_every_stash_error_is_stashs_not_plexs() -> None:
    client, _ = stash((200, {"errors": [{"message": "database is locked"}]}), (502, b"bad"))
    for _ in range(2):
        with pytest.raises(SyncError) as caught:
            client.version()
        assert caught.value.service == "stash"


def test_stash_page_is_keyset_and_keeps_malformed_scenes_apart() -> None:
    good = {
        "id": "1",
        "title": " T ",
        "files": [{"path": "/a.mp4"}],
        "updated_at": "2025-01-01T00:00:05Z",
    }
    bad = {"id": "2", "title": ["list", "title"], "updated_at": "2025-01-01T00:00:06Z"}
    page = {"data": {"findScenes": {"scenes": [good, bad, {"title": "no id"}]}}}
    client, session = stash((200, page), (200, page), (200, page))
    result = client.scene_page(PageQuery(after="2025-01-01T00:00:00Z", size=3))
    assert [s.id for s in result.scenes] == ["1"]
    assert result.rows == 3 and result.keys == (("1", good["updated_at"]), ("2", bad["updated_at"]))
    assert [m.id for m in result.malformed] == ["2", ""]
    assert "field 'title'" in result.malformed[0].message
    client.scene_page(PageQuery(after="2025-01-01T00:00:05Z", inclusive=True))
    client.scene_page(PageQuery(after="2025-01-01T00:00:05Z", group_after_id=7))
    strict, inclusive, group = (sent["json"]["variables"] for sent in session.sent)
    assert strict["filter"] == {"page": 1, "per_page": 3, "sort": "updated_at", "direction": "ASC"}
    assert strict["scene_filter"]["updated_at"]["modifier"] == "GREATER_THAN"
    assert inclusive["scene_filter"]["updated_at"]["modifier"] == "BETWEEN"
    assert group["scene_filter"]["id"] == {"value": 7, "modifier": "GREATER_THAN"}
    assert group["scene_filter"]["updated_at"]["modifier"] == "EQUALS"
    assert group["filter"]["sort"] == "id"


def test_parse_scene_normalises_missing_parts() -> None:
    scene = parse_scene(
        {
            "id": 7,
            "studio": None,
            "performers": None,
            "tags": [{"name": " x "}],
            "updated_at": "2025-01-01T00:00:00Z",
        }
    )
    assert (scene.id, scene.studio, scene.performers, scene.tags) == ("7", "", (), ("x",))
    with pytest.raises(PermanentError, match="field 'files'"):
        parse_scene({"id": "1", "files": "not a list", "updated_at": "2025-01-01T00:00:00Z"})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", ["list", "title"]),
        ("tags", [{"name": True}]),
        ("date", 20240102),
        ("studio", "Studio"),
        ("performers", [{"name": 5}]),
        ("updated_at", "yesterday"),
        ("details", {"a": 1}),
    ],
)
def test_a_wrong_typed_field_is_refused_with_its_name(field: str, value: object) -> None:
    raw = {"id": "3", "title": "ok", "updated_at": "2025-01-01T00:00:00Z", field: value}
    with pytest.raises(PermanentError) as caught:
        parse_scene(raw)
    assert f"field '{field}" in caught.value.message


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (Unauthorized("(401) unauthorized; http://x"), ErrorClass.AUTH),
        (BadRequest("(403) forbidden; http://x"), ErrorClass.AUTH),
        (NotFound("(404) not_found; http://x"), ErrorClass.NOT_FOUND),
        (BadRequest("(503) service_unavailable; http://x"), ErrorClass.TRANSIENT),
        (BadRequest("(429) too_many_requests; http://x"), ErrorClass.TRANSIENT),
        (BadRequest("(400) bad_request; http://x"), ErrorClass.PERMANENT),
        (BadRequest("Invalid filter field"), ErrorClass.PERMANENT),
        (TypeError("'NoneType' object is not subscriptable"), ErrorClass.TRANSIENT),
        (requests.ConnectionError("Connection refused"), ErrorClass.UNREACHABLE),
        (requests.ConnectTimeout("slow"), ErrorClass.UNREACHABLE),
        (requests.ReadTimeout("slow"), ErrorClass.UNREACHABLE),
        (requests.exceptions.ChunkedEncodingError("cut"), ErrorClass.TRANSIENT),
    ],
)
def test_plex_errors_are_classified_at_one_boundary(exc: Exception, expected: ErrorClass) -> None:
    client = PlexClient(CONFIG)
    with pytest.raises(SyncError) as info, client._translated("a call"):
        raise exc
    assert info.value.error_class is expected
    assert "t" * 20 not in str(info.value)
    client.close()


def test_plex_retry_after_is_read_from_the_response() -> None:
    client = PlexClient(CONFIG)
    response = requests.Response()
    response.headers["Retry-After"] = "42"
    with pytest.raises(TransientError) as info, client._translated("a call"):
        client._remember_response(response)
        raise BadRequest("(429) too_many_requests; http://x")
    assert info.value.retry_after == 42
    client.close()


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("image/png", PNG, PNG),
        ("image/jpeg", b"\xff\xd8\xff\xe0" + b"\x00" * 20, b"\xff\xd8\xff\xe0" + b"\x00" * 20),
        ("image/webp", b"RIFF\x00\x00\x00\x00WEBPVP8 ", b"RIFF\x00\x00\x00\x00WEBPVP8 "),
        ("image/svg+xml", b"<svg xmlns='http://www.w3.org/2000/svg'/>", b""),  # placeholder
        ("application/octet-stream", b"<?xml version='1.0'?><svg/>", b""),
    ],
)
def test_only_raster_images_are_posters(content_type: str, body: bytes, expected: bytes) -> None:
    assert poster_bytes(content_type, body) == expected


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("text/html", b"<html>sign in</html>"), ("image/png", b"<html>sign in</html>"), (None, b"")],
)
def test_what_is_not_an_image_is_a_stash_failure(content_type: str | None, body: bytes) -> None:
    with pytest.raises(TransientError):
        poster_bytes(content_type, body)


def _plex_with(*answers: Any) -> PlexClient:
    session = CannedSession(*answers)
    return PlexClient(CONFIG, session_factory=lambda: session)


ROOT = (200, b'<MediaContainer machineIdentifier="m1" version="1.40"/>')
LOGIN = (200, b"<html><body><form action='/login'/></body></html>")
ITEM = PlexItem("7", "1", "t", "", "", "", (), (), (), ("/a",), 0)


@pytest.mark.parametrize("call", ["edit", "poster", "probe", "sections"])
def test_a_login_page_with_200_from_plex_is_never_success(call: str) -> None:
    client = _plex_with(ROOT, LOGIN)
    with pytest.raises(UnreachableError) as info:
        if call == "edit":
            client.edit(ITEM, {"title.value": "x"})
        elif call == "poster":
            client.upload_poster(ITEM, PNG)
        elif call == "probe":
            client.probe()
        else:
            client.movie_sections()
    assert "not Plex" in info.value.title
    client.close()


def test_plex_edit_with_an_empty_200_succeeds_and_probe_needs_the_token() -> None:
    session = CannedSession(ROOT, (200, b""), (200, b"<MediaContainer/>"))
    client = PlexClient(CONFIG, session_factory=lambda: session)
    client.edit(ITEM, {"title.value": "x"})
    client.probe()
    assert session.sent[-1]["url"].endswith("/library/sections")  # /identity needs no token
    client.close()
