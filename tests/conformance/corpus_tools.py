"""The machinery of the Stash conformance corpus: one run against one server, and normalising.

A run talks to a Stash (the real one, or our simulator) over plain HTTP and websockets, creates its
own objects (names carry a run token, so runs never collide with a library's own data), and
returns each case's answers normalised: ids of objects the run made become their names in the
run (`tag:A`), other ids `<id>`; timestamps `<time>`; the server's address `<origin>`; file paths
`<path>`. What the normalised answers keep: every key, every null, every type, every error message
and path, and the order of every list.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from graphql import FieldNode, OperationDefinitionNode, parse, print_ast

TIMEOUT = (5.0, 30.0)
MISSING_ID = "999999"  # an id no corpus server has
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)$")
KINDS = ("tag", "performer", "studio", "group", "scene", "job")
_WITH_ID = re.compile(r"\b(tag|performer|studio|scene) with id (\d+)")
_DOES_NOT_EXIST = re.compile(r"\bid (\d+) does not exist in (tags|performers|studios|scenes)\b")
_ESCAPED_SCENE = re.compile(r"%2Fscene%2F(\d+)%2F")
_SCREENSHOT = re.compile(r"/scene/(\d+)/screenshot\?t=\d+")
_ID_KEYS = frozenset({"id", "scene_id", "destination", "job_id", "metadataScan"})
_PATH_KEYS = frozenset({"path", "basename"})
_BUILD_KEYS = frozenset({"version", "hash", "build_time"})


@dataclass
class Run:
    """One corpus run: the server, what the run made there, and how it waits for a new second."""

    url: str
    api_key: str
    tick: Callable[[], None]  # let the server's clock pass a second (sleep, or a fake clock)
    start: str = ""  # the server's timestamp of the run's first object
    token: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    symbols: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, id) -> name
    ids: dict[str, str] = field(default_factory=dict)  # name in the run -> server id
    session: requests.Session = field(default_factory=requests.Session)

    def name(self, label: str) -> str:
        """An object name unique to this run (normalised back to `<run> label`)."""
        return f"PSC-{self.token} {label}"

    def bind(self, symbol: str, server_id: Any) -> str:
        text = str(server_id)
        self.symbols[(symbol.split(":")[0], text)], self.ids[symbol] = symbol, text
        return text

    def id(self, symbol: str) -> str:
        return self.ids[symbol]

    def headers(self, key: str | None = "own") -> dict[str, str]:
        chosen = self.api_key if key == "own" else key
        return {"ApiKey": chosen} if chosen else {}

    def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """A GraphQL request with our key: the body, with the HTTP status under `_status`."""
        response = self.session.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers=self.headers(),
            timeout=TIMEOUT,
            allow_redirects=False,
        )
        body: dict[str, Any] = response.json()
        body["_status"] = response.status_code
        return body

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The `data` of a request that must succeed (corpus set-up)."""
        body = self.post(query, variables)
        if body.get("errors") or body["_status"] != 200:
            raise AssertionError(f"set-up failed: {body}")
        return dict(body["data"])

    def close(self) -> None:
        self.session.close()


def normalise(value: Any, run: Run, kind: str = "") -> Any:
    """`value` with everything that differs between servers and runs replaced (see module).

    Stash numbers each kind on its own, so an id is looked up in the kind its place names
    (`tags`, `findStudio`, `performerMerge`, ...), or in `kind` where no key says it (the
    engine's aliased look-ups)."""
    return _norm(value, run, key="", kind=kind)


def _kind_of(key: str, current: str) -> str:
    lowered = key.lower()
    for kind in KINDS:
        if kind in lowered:
            return kind
    return current


def _norm(value: Any, run: Run, key: str, kind: str) -> Any:
    if isinstance(value, dict):
        return {k: _norm(v, run, k, _kind_of(k, kind)) for k, v in value.items()}
    if isinstance(value, list):
        if key == "path":  # a GraphQL error's path: field names and indexes
            return [_text(v, run) if isinstance(v, str) else v for v in value]
        if key in _ID_KEYS or key.endswith("_ids"):
            return [_symbol(kind, str(v), run) for v in value]
        return [_norm(v, run, key, kind) for v in value]
    if not isinstance(value, str):
        return value
    if key in _ID_KEYS or key.endswith("_id"):
        return _symbol(_kind_of(key, kind), value, run)
    if key in _PATH_KEYS:
        return "<path>"
    if key in _BUILD_KEYS:
        return f"<{key}>"
    if _TIME.match(value):
        return "<time>"
    return _text(value, run)


def _symbol(kind: str, server_id: str, run: Run) -> str:
    if server_id == MISSING_ID:
        return "<missing>"
    return run.symbols.get((kind, server_id), "<id>")


def _text(text: str, run: Run) -> str:
    text = text.replace(run.url, "<origin>").replace(f"PSC-{run.token}", "<run>")
    text = _SCREENSHOT.sub(
        lambda m: f"/scene/{_symbol('scene', m.group(1), run)}/screenshot?t=<unix>", text
    )
    text = _ESCAPED_SCENE.sub(lambda m: f"%2Fscene%2F{_symbol('scene', m.group(1), run)}%2F", text)
    text = _WITH_ID.sub(
        lambda m: f"{m.group(1)} with id {_symbol(m.group(1), m.group(2), run)}", text
    )
    return _DOES_NOT_EXIST.sub(
        lambda m: (
            f"id {_symbol(m.group(2).rstrip('s'), m.group(1), run)} does not exist in {m.group(2)}"
        ),
        text,
    )


def query_shape(query: str) -> str:
    """What a GraphQL request asks, without its aliases and the count of repeated lookups.

    `o0: findTag(id: $i0) { id } o1: findTag(id: $i1) { id }` and the same with 200 lookups have
    one shape: a recorded answer to one stands for all. Variables' names lose their numbers too.
    """
    document = parse(query)
    shapes = []
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        fields: list[str] = []
        for selection in definition.selection_set.selections:
            if isinstance(selection, FieldNode):
                text = re.sub(r"\$([a-z]+)\d+", r"$\1", print_ast(_unaliased(selection)))
                if text not in fields:
                    fields.append(text)
        name = definition.name.value if definition.name else ""
        params: list[str] = []
        for variable in definition.variable_definitions or ():
            text = re.sub(r"\$([a-z]+)\d+", r"$\1", print_ast(variable))
            if text not in params:
                params.append(text)
        signature = f"({', '.join(params)})" if params else ""
        shapes.append(f"{definition.operation.value} {name}{signature} {{ {' '.join(fields)} }}")
    return " ".join(" ".join(shapes).split())


def _unaliased(node: FieldNode) -> FieldNode:
    return FieldNode(
        name=node.name,
        arguments=node.arguments,
        directives=node.directives,
        selection_set=node.selection_set,
        alias=None,
    )


def wait_next_second() -> None:
    """Sleep past the next whole second: Stash stamps edits in whole seconds."""
    time.sleep(1.05 - (time.time() % 1.0))


def dumps(value: Any) -> str:
    return json.dumps(value, indent=1, ensure_ascii=False, sort_keys=False)
