"""The Stash conformance corpus: every request the engine sends, the mutations our tests shape data
with, and the answers that are not GraphQL, run in one order against one Stash.

Recorded once from a real Stash (`python tests/conformance/stash_corpus.py record`, with
PLEXSYNC_REAL_STASH_URL and PLEXSYNC_REAL_STASH_API_KEY set) into `stash_recorded.json`; in CI
`test_stash_conformance.py` runs the same corpus against our simulator and compares. Each case
returns a dict of normalised answers (see `corpus_tools`) and, where a fact is a comparison the
placeholders would hide ("the scene's updated_at did not change"), that fact as a boolean.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from corpus_tools import MISSING_ID, TIMEOUT, Run, dumps, normalise, query_shape, wait_next_second
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from engine.live.stash import JOBS_SUBSCRIPTION
from engine.stash.client import (
    FIND_SCENES,
    VERSION,
    carrying_variables,
    page_variables,
    scene_lookup_request,
)
from engine.stash.objects import OBJECT_KINDS, ids_request, object_page_request
from engine.stash.scene import PageQuery

RECORDED = Path(__file__).with_name("stash_recorded.json")
RECORDED_SCHEMA = Path(__file__).with_name("stash_schema_recorded.json")
STASH_COMMIT = "cf3489efdc450dc2812367e8c4d61fd1c9bf3051"  # stashapp/stash develop, 2026-01-11
OBJECT = "id name updated_at"
SCENE = (
    "id title code details director date rating100 created_at updated_at organized urls"
    " stash_ids { endpoint stash_id } studio { id name parent_studio { id name } }"
    " performers { id name tags { id name } } tags { id name parents { id name } }"
    " groups { group { id name } scene_index }"
    " files { path }"
)
CREATE_TAG = f"mutation ($input: TagCreateInput!) {{ tagCreate(input: $input) {{ {OBJECT} }} }}"
CREATE_PERFORMER = (
    f"mutation ($input: PerformerCreateInput!) {{ performerCreate(input: $input) {{ {OBJECT} }} }}"
)
CREATE_STUDIO = (
    f"mutation ($input: StudioCreateInput!) {{ studioCreate(input: $input) {{ {OBJECT} }} }}"
)
CREATE_SCENE = (
    f"mutation ($input: SceneCreateInput!) {{ sceneCreate(input: $input) {{ {SCENE} }} }}"
)
UPDATE_SCENE = (
    f"mutation ($input: SceneUpdateInput!) {{ sceneUpdate(input: $input) {{ {SCENE} }} }}"
)
FIND_SCENE = f"query ($id: ID) {{ findScene(id: $id) {{ {SCENE} }} }}"
FIND_TAG = "query ($id: ID!) { findTag(id: $id) { id name updated_at aliases } }"
FIND_PERFORMER = "query ($id: ID!) { findPerformer(id: $id) { id name updated_at } }"

Case = Callable[[Run], dict[str, Any]]
CASES: list[tuple[str, Case]] = []


def case(function: Case) -> Case:
    CASES.append((function.__name__, function))
    return function


def _scene(run: Run, symbol: str) -> dict[str, Any]:
    return dict(run.data(FIND_SCENE, {"id": run.id(symbol)})["findScene"])


@case
def objects_created(run: Run) -> dict[str, Any]:
    """Tags, performers and studios made for the run (their answers are mutations' shapes)."""
    answers: dict[str, Any] = {}
    for kind, query, labels in (
        ("tag", CREATE_TAG, "ABCD"),
        ("performer", CREATE_PERFORMER, "PQ"),
        ("studio", CREATE_STUDIO, "ST"),
    ):
        for label in labels:
            values: dict[str, Any] = {"name": run.name(f"{kind} {label}")}
            if (kind, label) == ("studio", "T"):  # T is S's child studio
                values["parent_id"] = run.id("studio:S")
            if (kind, label) == ("tag", "D"):  # D is B's sub-tag
                values["parent_ids"] = [run.id("tag:B")]
            if (kind, label) == ("performer", "P"):  # P carries tag B
                values["tag_ids"] = [run.id("tag:B")]
            body = run.post(query, {"input": values})
            created = next(iter(body["data"].values()))
            run.bind(f"{kind}:{label}", created["id"])
            answers[f"{kind}:{label}"] = normalise(body, run)
    run.start = created["updated_at"]  # the run's first second
    body = run.post(CREATE_TAG, {"input": {"name": run.name("tag A")}})
    answers["duplicate tag name"] = normalise(body, run)
    return answers


@case
def scenes_created(run: Run) -> dict[str, Any]:
    """Scenes without files, one per second (Stash stamps edits in whole seconds)."""
    answers = {}
    inputs = {
        "scene:X": {
            "title": run.name("scene X"),
            "details": "Details of X",
            "code": "X-001",
            "director": "Director X",
            "rating100": 87,
            "organized": True,
            "urls": ["https://example.org/x"],
            "stash_ids": [{"endpoint": "https://stashdb.org/graphql", "stash_id": "abc-123"}],
            "date": "2024-05-06",
            "studio_id": run.id("studio:S"),
            "tag_ids": [run.id("tag:B"), run.id("tag:A"), run.id("tag:C"), run.id("tag:D")],
            # in id order: Stash reads a scene's performers without an ORDER BY (docs/design.md)
            "performer_ids": [run.id("performer:P"), run.id("performer:Q")],
        },
        "scene:Y": {"title": run.name("scene Y"), "tag_ids": [run.id("tag:A")], "rating100": 100},
        "scene:Z": {"title": run.name("scene Z"), "studio_id": run.id("studio:T")},
    }
    for symbol, values in inputs.items():
        run.tick()
        body = run.post(CREATE_SCENE, {"input": values})
        run.bind(symbol, body["data"]["sceneCreate"]["id"])
        answers[symbol] = normalise(body, run)
    return answers


@case
def scene_with_file_updated(run: Run) -> dict[str, Any]:
    """The first scene with a file (from a scan) joins the run by an edit."""
    found = run.post(
        "query ($filter: FindFilterType, $scene_filter: SceneFilterType) {"
        " findScenes(filter: $filter, scene_filter: $scene_filter)"
        " { scenes { id files { path } } } }",
        {
            "filter": {"per_page": 1, "sort": "id", "direction": "ASC"},
            "scene_filter": {"file_count": {"value": 0, "modifier": "GREATER_THAN"}},
        },
    )
    run.bind("scene:F", found["data"]["findScenes"]["scenes"][0]["id"])
    run.tick()
    body = run.post(
        UPDATE_SCENE,
        {
            "input": {
                "id": run.id("scene:F"),
                "title": run.name("scene F"),
                "tag_ids": [run.id("tag:A")],
                # every field the corpus reads, so earlier edits of the library do not show
                "details": "Details of F",
                "code": None,
                "director": None,
                "rating100": None,
                "organized": False,
                "urls": [],
                "stash_ids": [],
                "date": None,
                "studio_id": None,
                "performer_ids": [],
            }
        },
    )
    return {"found": normalise(found, run), "updated": normalise(body, run)}


@case
def engine_scene_poll(run: Run) -> dict[str, Any]:
    """The engine's scene poll from the run's start: inclusive, exclusive, and within a second."""
    start = run.start
    answers = {}
    for label, query in (
        ("inclusive", PageQuery(after=start, inclusive=True, size=3)),
        ("after", PageQuery(after=start, size=10)),
    ):
        answers[label] = normalise(run.post(FIND_SCENES, page_variables(query)), run)
    x_stamp = _scene(run, "scene:X")["updated_at"]
    within = PageQuery(after=x_stamp, group_after_id=0, size=10)
    answers["within a second"] = normalise(run.post(FIND_SCENES, page_variables(within)), run)
    return answers


@case
def engine_object_polls(run: Run) -> dict[str, Any]:
    """The engine's poll of each kind by `updated_at` (the total counts every object: hidden)."""
    start = run.start
    answers = {}
    for kind in ("tag", "performer", "studio"):
        body = run.post(*object_page_request(kind, PageQuery(after=start, inclusive=True)))
        if body.get("data"):
            body["data"]["total"]["count"] = "<count>"
        answers[kind] = normalise(body, run)
    return answers


@case
def engine_carrying(run: Run) -> dict[str, Any]:
    """Scenes carrying an object, one page of 1 and the next, for each kind."""
    answers = {}
    for kind, symbol in (
        ("tag", "tag:A"),
        ("performer", "performer:P"),
        ("studio", "studio:S"),
        ("performer_tag", "tag:B"),
        ("tag", "tag:B"),  # and the scenes of its sub-tag D (depth -1)
    ):
        first = run.post(FIND_SCENES, carrying_variables(kind, [run.id(symbol)], 0, 1))
        label = kind if symbol != "tag:B" or kind != "tag" else "tag B with its sub-tags"
        answers[f"{label} first"] = normalise(first, run)
        scenes = first["data"]["findScenes"]["scenes"]
        after = int(scenes[0]["id"]) if scenes else 0
        nxt = run.post(FIND_SCENES, carrying_variables(kind, [run.id(symbol)], after, 10))
        answers[f"{label} next"] = normalise(nxt, run)
    return answers


@case
def tag_renamed(run: Run) -> dict[str, Any]:
    before = _scene(run, "scene:X")["updated_at"]
    run.tick()
    body = run.post(
        f"mutation ($input: TagUpdateInput!) {{ tagUpdate(input: $input) {{ {OBJECT} }} }}",
        {"input": {"id": run.id("tag:B"), "name": run.name("tag B renamed")}},
    )
    after = _scene(run, "scene:X")
    return {
        "update": normalise(body, run),
        "scene": normalise(after, run, "scene"),
        "scene updated_at unchanged": after["updated_at"] == before,
    }


@case
def missing_ids(run: Run) -> dict[str, Any]:
    """`find*(ids:)` naming one id Stash does not have; `find<Kind>(id:)` for it."""
    answers = {}
    for field, items in (
        ("findTags", "tags"),
        ("findPerformers", "performers"),
        ("findStudios", "studios"),
        ("findScenes", "scenes"),
    ):
        ids = [run.id({"tags": "tag:A", "performers": "performer:P"}.get(items, "studio:S"))]
        if items == "scenes":
            ids = [run.id("scene:X")]
        query = f"query ($ids: [ID!]) {{ {field}(ids: $ids) {{ {items} {{ id }} }} }}"
        answers[field] = normalise(run.post(query, {"ids": [*ids, MISSING_ID]}), run)
        answers[f"{field} all present"] = normalise(run.post(query, {"ids": ids}), run)
    for field in ("findTag", "findPerformer", "findStudio"):
        query = f"query ($id: ID!) {{ {field}(id: $id) {{ id }} }}"
        answers[field] = normalise(run.post(query, {"id": MISSING_ID}), run)
    answers["findScene"] = normalise(run.post(FIND_SCENE, {"id": MISSING_ID}), run)
    return answers


def _listed(run: Run, kind: str) -> dict[str, Any]:
    """The engine's id-only listing of a kind: its shape, and the run's objects in it, in order
    (the listing holds every object of the library, which differs between servers)."""
    body = run.post(*ids_request(kind))
    data = body.get("data") or {}
    items = next(iter(data.values()), {}) if data else {}
    listed = [o["id"] for o in next(iter(items.values()), [])] if items else []
    ours = [run.symbols[(kind, i)] for i in listed if (kind, i) in run.symbols]
    return {
        "status": body["_status"],
        "errors": body.get("errors"),
        "fields": {k: list(v) for k, v in data.items()},
        "item keys": sorted({k for o in next(iter(items.values()), []) for k in o})
        if items
        else [],
        "run objects": ours,
    }


@case
def tags_merged(run: Run) -> dict[str, Any]:
    before = _scene(run, "scene:X")["updated_at"]
    a_before = run.data(FIND_TAG, {"id": run.id("tag:A")})["findTag"]["updated_at"]
    run.tick()
    body = run.post(
        f"mutation ($input: TagsMergeInput!) {{ tagsMerge(input: $input) {{ {OBJECT} aliases }} }}",
        {"input": {"source": [run.id("tag:C")], "destination": run.id("tag:A")}},
    )
    after = _scene(run, "scene:X")
    merged = run.data(FIND_TAG, {"id": run.id("tag:A")})["findTag"]
    return {
        "merge": normalise(body, run),
        "scene": normalise(after, run, "scene"),
        "destination": normalise(merged, run, "tag"),
        "engine presence": _listed(run, "tag"),
        "scene updated_at unchanged": after["updated_at"] == before,
        "destination updated_at unchanged": merged["updated_at"] == a_before,
    }


@case
def tag_destroyed(run: Run) -> dict[str, Any]:
    before = _scene(run, "scene:X")["updated_at"]
    run.tick()
    body = run.post(
        "mutation ($input: TagDestroyInput!) { tagDestroy(input: $input) }",
        {"input": {"id": run.id("tag:D")}},
    )
    after = _scene(run, "scene:X")
    again = run.post(
        "mutation ($input: TagDestroyInput!) { tagDestroy(input: $input) }",
        {"input": {"id": run.id("tag:D")}},
    )
    return {
        "destroy": normalise(body, run),
        "destroy again": normalise(again, run),
        "scene": normalise(after, run, "scene"),
        "scene updated_at unchanged": after["updated_at"] == before,
        "engine presence": _listed(run, "tag"),
    }


@case
def performers_merged(run: Run) -> dict[str, Any]:
    before = _scene(run, "scene:X")["updated_at"]
    p_before = run.data(FIND_PERFORMER, {"id": run.id("performer:P")})["findPerformer"]
    run.tick()
    body = run.post(
        "mutation ($input: PerformerMergeInput!)"
        f" {{ performerMerge(input: $input) {{ {OBJECT} }} }}",
        {"input": {"source": [run.id("performer:Q")], "destination": run.id("performer:P")}},
    )
    after = _scene(run, "scene:X")
    merged = run.data(FIND_PERFORMER, {"id": run.id("performer:P")})["findPerformer"]
    return {
        "merge": normalise(body, run),
        "scene": normalise(after, run, "scene"),
        "engine presence": _listed(run, "performer"),
        "scene updated_at unchanged": after["updated_at"] == before,
        "destination updated_at unchanged": merged["updated_at"] == p_before["updated_at"],
    }


@case
def studios_renamed_and_destroyed(run: Run) -> dict[str, Any]:
    before_x = _scene(run, "scene:X")["updated_at"]
    before_z = _scene(run, "scene:Z")["updated_at"]
    run.tick()
    renamed = run.post(
        f"mutation ($input: StudioUpdateInput!) {{ studioUpdate(input: $input) {{ {OBJECT} }} }}",
        {"input": {"id": run.id("studio:S"), "name": run.name("studio S renamed")}},
    )
    child = _scene(run, "scene:Z")  # its studio T shows the renamed parent
    destroyed = run.post(
        "mutation ($input: StudioDestroyInput!) { studioDestroy(input: $input) }",
        {"input": {"id": run.id("studio:T")}},
    )
    x, z = _scene(run, "scene:X"), _scene(run, "scene:Z")
    return {
        "rename": normalise(renamed, run),
        "scene Z after its studio's parent was renamed": normalise(child, run, "scene"),
        "destroy": normalise(destroyed, run),
        "scene X": normalise(x, run, "scene"),
        "scene Z": normalise(z, run, "scene"),
        "engine presence": _listed(run, "studio"),
        "scene X updated_at unchanged": x["updated_at"] == before_x,
        "scene Z updated_at unchanged": z["updated_at"] == before_z,
    }


GROUP = "id name synopsis updated_at"


@case
def groups_joined_renamed_destroyed(run: Run) -> dict[str, Any]:
    """A group (issue 24): made, joined by scene X at index 2, polled and carried as the engine
    does, renamed (the scene's updated_at stays) and destroyed (the scene leaves it)."""
    run.tick()
    made = run.post(
        f"mutation ($input: GroupCreateInput!) {{ groupCreate(input: $input) {{ {GROUP} }} }}",
        {"input": {"name": run.name("group G"), "synopsis": "About G"}},
    )
    run.bind("group:G", made["data"]["groupCreate"]["id"])
    joined = run.post(
        UPDATE_SCENE,
        {
            "input": {
                "id": run.id("scene:X"),
                "groups": [{"group_id": run.id("group:G"), "scene_index": 2}],
            }
        },
    )
    before = _scene(run, "scene:X")["updated_at"]
    polled = run.post(*object_page_request("group", PageQuery(after=run.start, inclusive=True)))
    if polled.get("data"):
        polled["data"]["total"]["count"] = "<count>"
    carried = run.post(FIND_SCENES, carrying_variables("group", [run.id("group:G")], 0, 10))
    run.tick()
    renamed = run.post(
        f"mutation ($input: GroupUpdateInput!) {{ groupUpdate(input: $input) {{ {GROUP} }} }}",
        {"input": {"id": run.id("group:G"), "name": run.name("group G renamed")}},
    )
    after_rename = _scene(run, "scene:X")
    destroyed = run.post(
        "mutation ($input: GroupDestroyInput!) { groupDestroy(input: $input) }",
        {"input": {"id": run.id("group:G")}},
    )
    return {
        "made": normalise(made, run),
        "joined": normalise(joined, run),
        "engine poll": normalise(polled, run),
        "engine carrying": normalise(carried, run),
        "renamed": normalise(renamed, run),
        "scene X after the rename": normalise(after_rename, run, "scene"),
        "scene X updated_at unchanged": after_rename["updated_at"] == before,
        "destroyed": normalise(destroyed, run),
        "scene X after the destroy": normalise(_scene(run, "scene:X"), run, "scene"),
        "engine presence": _listed(run, "group"),
    }


@case
def engine_scene_lookup(run: Run) -> dict[str, Any]:
    """The engine's aliased look-up of scenes, one of them missing."""
    ids = [run.id("scene:X"), MISSING_ID, run.id("scene:F")]
    return {"lookup": normalise(run.post(*scene_lookup_request(ids)), run, "scene")}


@case
def scenes_merged_and_destroyed(run: Run) -> dict[str, Any]:
    run.tick()
    merged = run.post(
        f"mutation ($input: SceneMergeInput!) {{ sceneMerge(input: $input) {{ {SCENE} }} }}",
        {"input": {"source": [run.id("scene:Y")], "destination": run.id("scene:Z")}},
    )
    destroyed = run.post(
        "mutation ($input: SceneDestroyInput!) { sceneDestroy(input: $input) }",
        {"input": {"id": run.id("scene:Z")}},
    )
    gone = run.post(*scene_lookup_request([run.id("scene:Y"), run.id("scene:Z")]))
    return {
        "merge": normalise(merged, run),
        "destroy": normalise(destroyed, run),
        "lookup": normalise(gone, run, "scene"),
    }


@case
def version(run: Run) -> dict[str, Any]:
    return {"version": normalise(run.post(VERSION), run)}


@case
def screenshots_and_keys(run: Run) -> dict[str, Any]:
    """Screenshots with and without a cover; /graphql and a screenshot with bad or no key."""
    answers = {}
    for label, symbol, key in (
        ("with a cover", "scene:F", "own"),
        ("without a cover", "scene:X", "own"),
        ("wrong key", "scene:F", "wrong-key"),
        ("no key", "scene:F", None),
    ):
        response = run.session.get(
            f"{run.url}/scene/{run.id(symbol)}/screenshot?t=1",
            headers=run.headers(key),
            timeout=TIMEOUT,
            allow_redirects=False,
        )
        answers[f"screenshot {label}"] = _http(response, run)
    for label, key in (("wrong key", "wrong-key"), ("no key", None)):
        response = run.session.post(
            f"{run.url}/graphql",
            json={"query": VERSION},
            headers=run.headers(key),
            timeout=TIMEOUT,
            allow_redirects=False,
        )
        answers[f"graphql {label}"] = _http(response, run)
    return answers


def _http(response: requests.Response, run: Run) -> dict[str, Any]:
    data = response.content
    kind = "empty"
    if data.lstrip().startswith((b"<svg", b"<?xml")):
        kind = "svg"
    elif data.startswith((b"\xff\xd8\xff", b"\x89PNG")):
        kind = "raster"
    elif data:
        kind = "text"
    media = (response.headers.get("Content-Type") or "").split(";")[0]
    answer: dict[str, Any] = {"status": response.status_code, "type": media, "body": kind}
    if kind == "text":
        answer["text"] = normalise(data.decode("utf-8", "replace").strip(), run)
    if "Location" in response.headers:
        answer["location"] = normalise(response.headers["Location"], run)
    return answer


@case
def websocket_wrong_key(run: Run) -> dict[str, Any]:
    url = run.url.replace("http", "ws", 1) + "/graphql"
    try:
        with connect(
            url,
            additional_headers={"ApiKey": "wrong-key"},
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            open_timeout=10,
        ):
            return {"status": 101}
    except InvalidStatus as exc:
        return {"status": exc.response.status_code}


@case
def jobs_during_a_scan(run: Run) -> dict[str, Any]:
    """`jobsSubscribe` while a scan runs, over both protocols gqlgen speaks."""
    answers = {}
    for protocol in ("graphql-transport-ws", "graphql-ws"):
        answers[protocol] = _watch_scan(run, protocol)
    return answers


def _watch_scan(run: Run, protocol: str) -> dict[str, Any]:
    url = run.url.replace("http", "ws", 1) + "/graphql"
    legacy = protocol == "graphql-ws"
    with connect(
        url,
        additional_headers=run.headers(),
        subprotocols=[protocol],  # type: ignore[list-item]
        open_timeout=10,
    ) as ws:
        ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        ack = json.loads(ws.recv(timeout=10))
        payload = {"operationName": "JobsSubscribe", "query": JOBS_SUBSCRIPTION, "variables": {}}
        ws.send(
            json.dumps({"id": "1", "type": "start" if legacy else "subscribe", "payload": payload})
        )
        scan = run.post("mutation { metadataScan(input: {}) }")
        job_id = scan["data"]["metadataScan"]
        run.bind(f"job:{protocol}", job_id)
        seen: list[str] = []
        events: list[dict[str, Any]] = []
        shape: Any = None
        while len(seen) < 200:
            message = json.loads(ws.recv(timeout=60))
            kind = message.get("type")
            if kind in ("ka", "ping", "pong"):
                continue
            if kind not in seen:
                seen.append(kind)
            event = message.get("payload", {}).get("data", {}).get("jobsSubscribe")
            if not event or str(event["job"]["id"]) != str(job_id):
                continue
            shape = shape or normalise(message, run)
            step = [event["type"], event["job"]["status"]]
            if not events or [events[-1]["type"], events[-1]["status"]] != step:
                events.append({"type": step[0], "status": step[1]})
            if event["type"] == "REMOVE":
                break
    return {
        "ack": normalise(ack, run),
        "scan": normalise(scan, run),
        "message types": seen,
        "first message": shape,
        "events": events,
    }


def run_corpus(run: Run) -> dict[str, Any]:
    """Every case in order (later cases build on earlier ones' data). A case that breaks is
    recorded as its error, so each case is compared on its own."""
    answers: dict[str, Any] = {}
    for name, function in CASES:
        try:
            answers[name] = function(run)
        except Exception as exc:  # a server that answers unlike Stash: the comparison says how
            answers[name] = {"broke": f"{type(exc).__name__}: {exc}"[:500]}
    return answers


def engine_query_shapes() -> list[str]:
    """The shapes of every GraphQL request the engine sends, as the corpus sends them."""
    queries = [FIND_SCENES, VERSION, JOBS_SUBSCRIPTION, scene_lookup_request(["1", "2"])[0]]
    for kind in OBJECT_KINDS:  # every kind the engine polls (the group case records groups)
        queries.append(object_page_request(kind, PageQuery())[0])
        queries.append(ids_request(kind)[0])
    return sorted({query_shape(q) for q in queries})


def schema_part(introspection: dict[str, Any], wanted: dict[str, set[str]]) -> dict[str, Any]:
    """The real schema's types that our simulator's schema names, with only the members it names
    (enough for `check_subset`, which asks whether each of ours exists with the same type)."""
    kept = []
    for real_type in introspection["__schema"]["types"]:
        members = wanted.get(real_type["name"])
        if members is None:
            continue
        part = {"kind": real_type["kind"], "name": real_type["name"]}
        for key in ("fields", "inputFields", "enumValues"):
            if real_type.get(key) is not None:
                part[key] = [
                    {k: v for k, v in m.items() if k in ("name", "type", "args")}
                    for m in real_type[key]
                    if m["name"] in members
                ]
                for member in part[key]:
                    if "args" in member:
                        member["args"] = [
                            {"name": a["name"], "type": a["type"]} for a in member["args"]
                        ]
        kept.append(part)
    return {"__schema": {"types": kept}}


def our_schema_members() -> dict[str, set[str]]:
    from graphql import get_introspection_query, graphql_sync

    from plexsync_sim.stash.schema import schema

    ours = graphql_sync(schema(), get_introspection_query()).data
    assert ours is not None
    return {
        t["name"]: {
            m["name"] for key in ("fields", "inputFields", "enumValues") for m in t.get(key) or []
        }
        for t in ours["__schema"]["types"]
        if not t["name"].startswith("__")
    }


def record_schema(run: Run) -> None:
    from graphql import get_introspection_query

    introspection = run.data(get_introspection_query())
    part = schema_part(introspection, our_schema_members())
    RECORDED_SCHEMA.write_text(dumps(part) + "\n", encoding="utf-8")


def record() -> None:
    url = os.environ["PLEXSYNC_REAL_STASH_URL"].rstrip("/")
    run = Run(url, os.environ.get("PLEXSYNC_REAL_STASH_API_KEY", ""), wait_next_second)
    try:
        record_schema(run)
        answers = run_corpus(run)
        version_text = run.data(VERSION)["version"]["version"]
    finally:
        run.close()
    document = {
        "stash": {"version": version_text, "commit": STASH_COMMIT},
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "engine_query_shapes": engine_query_shapes(),
        "answers": answers,
    }
    RECORDED.write_text(dumps(document) + "\n", encoding="utf-8")
    print(f"recorded {len(answers)} cases from Stash {version_text} to {RECORDED}")


if __name__ == "__main__":
    if sys.argv[1:] != ["record"]:
        raise SystemExit("usage: stash_corpus.py record  (with PLEXSYNC_REAL_STASH_URL set)")
    record()
