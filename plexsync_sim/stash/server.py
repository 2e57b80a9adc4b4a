"""A Stash simulator: ``POST /graphql`` run by graphql-core against our own subset schema.

Routes (``ApiKey`` header or ``?apikey=`` required when an API key is set; 401 otherwise):
``POST /graphql`` and ``GET /scene/{id}/screenshot`` (a small PNG that differs per scene and per
cover; for a scene without a cover, Stash's placeholder SVG with status 200, like real Stash).
Scenes without a file have no cover; ``clear_cover``/``set_cover`` change that per scene, and
``churn(count, cover=True)`` gives the churned scenes new covers. A metadata edit changes the
URL's ``?t=`` but not the bytes, as in Stash.
Parse and validation errors, and bad variables, answer 422 with ``{"errors": [...]}``
like Stash's gqlgen; resolver errors answer 200 with ``errors``.

Control routes (not counted in stats): ``GET|DELETE /__sim__/stats``, ``POST|DELETE|GET
/__sim__/fault``, ``GET|POST /__sim__/scenes/{id}`` (POST JSON fields to change),
``POST /__sim__/churn`` ``{"count": k, "cover": false}``, ``GET|POST /__sim__/objects/{kind}/{id}``
(POST ``{"name": ...}`` renames; ``DELETE`` destroys), ``POST /__sim__/objects/{kind}/merge``
``{"source": [ids], "destination": id}`` (kind: tag, performer or studio; see
stash_objects), ``GET|DELETE /__sim__/requests``,
``POST|DELETE /__sim__/graphql_error`` ``{"match", "message", "count"}`` (a GraphQL error on
HTTP 200, e.g. "database is locked", for operations whose text matches ``match``) and
``POST|DELETE /__sim__/page_edits`` ``{"count": k, "times": n}`` (after each ``findScenes``
answer, edit the first ``k`` scenes it returned, ``n`` times or until cleared: the edits a user
makes while a poller is between two page requests), ``POST /__sim__/jobs`` ``{"kind":
"identify"|"scan"|"auto_tag", "scenes": [ids], "fields": {...}, "duration": s}`` (a job that
edits those scenes and reports itself on ``jobsSubscribe``; see ``stash_jobs``). A websocket
upgrade of ``/graphql`` serves ``jobsSubscribe`` (see ``ws_stash``).
"""

from __future__ import annotations

import collections
import email.utils
import html
import logging
import re
import threading
import time
import urllib.parse
from collections.abc import Callable
from datetime import tzinfo
from pathlib import PurePosixPath
from typing import Any

from graphql import GraphQLError, execute_sync, parse, validate

from plexsync_sim.http_base import Request, Response, SimError, SimServer, json_response
from plexsync_sim.images import JPEG_TYPE, PLACEHOLDER_SVG, SVG_TYPE, jpeg_bytes
from plexsync_sim.stash.jobs import SimJobs, job_control, stash_time
from plexsync_sim.stash.mutations import Mutations
from plexsync_sim.stash.object_api import ObjectApi, object_control
from plexsync_sim.stash.objects import find_many
from plexsync_sim.stash.query import page_of, scene_object, select
from plexsync_sim.stash.scenes import SceneStore, format_time
from plexsync_sim.stash.schema import schema
from plexsync_sim.stash.subscriptions import JobSubscriptions
from plexsync_sim.ws_base import is_upgrade

logger = logging.getLogger(__name__)

STASH_VERSION = "v0.28.1"
STASH_HASH = "5f3e1c2ab"
STASH_BUILD_TIME = "2025-06-01 12:00:00"
REQUEST_LOG_LIMIT = 10_000
_SCREENSHOT = re.compile(r"^/scene/(\d+)/screenshot$")
_SCENE_CONTROL = re.compile(r"^/__sim__/scenes/(\d+)$")


class _Root(Mutations):
    """Resolvers of the ``Query`` and ``Mutation`` fields (graphql-core calls them with
    ``info`` and args).

    ``info`` is typed ``Any`` because ``GraphQLResolveInfo`` is generic only in graphql-core 3.3.
    """

    _sim: StashSimulator  # the queries need the whole simulator; the mutations, `MutationHost`

    def __init__(self, sim: StashSimulator) -> None:
        self._sim = sim

    def findScenes(self, info: Any, **args: Any) -> dict[str, Any]:
        store = self._sim.store
        # `ids` replaces `scene_ids` when given; either skips the filter and paging and fails on
        # a missing id (internal/api/resolver_query_find_scene.go FindScenes; see find_many).
        wanted = args.get("ids") or args.get("scene_ids")
        if wanted:  # like Stash, empty id lists mean "no restriction"
            with store.lock:
                found = find_many("scene", wanted, store.get)
            matched = chosen = [record.id for record in found]
        else:
            matched = select(store, args.get("filter"), args.get("scene_filter"), None)
            chosen = page_of(matched, args.get("filter"))
        info.context["served"].extend(chosen)
        base_url = info.context["base_url"]

        def scenes(_info: Any) -> list[dict[str, Any]]:
            records = [store.get(i) for i in chosen]
            return [scene_object(store, r, base_url) for r in records if r is not None]

        def totals(_info: Any, attribute: str) -> float:
            records = (store.get(i) for i in matched)
            return float(sum(getattr(r, attribute) for r in records if r is not None and r.files))

        return {
            "count": len(matched),
            "scenes": scenes,
            "duration": lambda i: totals(i, "duration"),
            "filesize": lambda i: totals(i, "size"),
        }

    def findScene(self, info: Any, **args: Any) -> dict[str, Any] | None:
        raw = args.get("id")
        if raw is None:
            return None
        try:
            record = self._sim.store.get(int(raw))
        except ValueError:
            return None
        return scene_object(self._sim.store, record, info.context["base_url"]) if record else None

    def findTag(self, info: Any, id: str) -> dict[str, Any] | None:
        return self._sim.object("tag", id)

    def findPerformer(self, info: Any, id: str) -> dict[str, Any] | None:
        return self._sim.object("performer", id)

    def findStudio(self, info: Any, id: str) -> dict[str, Any] | None:
        return self._sim.object("studio", id)

    def findTags(self, info: Any, **args: Any) -> dict[str, Any]:
        return self._sim.find_objects("tag", args.get("tag_filter"), args, "tags")

    def findPerformers(self, info: Any, **args: Any) -> dict[str, Any]:
        ids = [*(args.get("performer_ids") or []), *(args.get("ids") or [])]
        return self._sim.find_objects(
            "performer", args.get("performer_filter"), {**args, "ids": ids}, "performers"
        )

    def findGroups(self, info: Any, **args: Any) -> dict[str, Any]:
        return self._sim.find_objects("group", args.get("group_filter"), args, "groups")

    def findGroup(self, info: Any, id: str) -> dict[str, Any] | None:
        return self._sim.object("group", id)

    def findStudios(self, info: Any, **args: Any) -> dict[str, Any]:
        return self._sim.find_objects("studio", args.get("studio_filter"), args, "studios")

    def version(self, info: Any) -> dict[str, str]:
        return {"version": STASH_VERSION, "hash": STASH_HASH, "build_time": STASH_BUILD_TIME}

    def configuration(self, info: Any) -> dict[str, Any]:
        return {"general": {"apiKey": self._sim.api_key or ""}}


class StashSimulator(SimServer, ObjectApi):
    """In-process Stash simulator; see the module docstring."""

    def __init__(
        self,
        api_key: str | None = "key",
        scenes: int = 50,
        seed: int = 1,
        path_prefix: str = "/data",
        port: int = 0,
        *,
        now: Callable[[], float] = time.time,
        tz: tzinfo | None = None,
        scanned_only: bool = False,
    ) -> None:
        super().__init__(port=port)
        self.api_key = api_key
        self.seed = seed
        self.path_prefix = path_prefix
        self.store = SceneStore(
            seed=seed, scenes=scenes, path_prefix=path_prefix, now=now, tz=tz,
            scanned_only=scanned_only,
        )  # fmt: skip
        self._root = _Root(self)
        self._log: collections.deque[dict[str, Any]] = collections.deque(maxlen=REQUEST_LOG_LIMIT)
        self._log_lock = threading.Lock()
        self._gql_errors: list[dict[str, Any]] = []
        self._covers: dict[int, bool] = {}  # scene id -> has a cover (default: has a file)
        self._page_hooks: list[Callable[[list[int]], None]] = []
        self._object_hooks: list[Callable[[str, list[int]], None]] = []
        self._cover_versions: dict[int, int] = {}  # scene id -> how often its cover was replaced
        schema()  # build the schema now rather than on the first request
        self.subscriptions = JobSubscriptions()  # jobsSubscribe over the /graphql websocket
        self.jobs = SimJobs(self.subscriptions, self.update_scene, now=now, stamp=stash_time(tz))

    # -- public helpers ------------------------------------------------------------------------
    def scene(self, scene_id: int | str) -> dict[str, Any] | None:
        """Scene ``scene_id`` as plain JSON (names, not ids), or None."""
        with self.store.lock:
            record = self.store.get(int(scene_id))
            if record is None:
                return None
            return {
                "id": str(record.id),
                "title": record.title,
                "code": record.code,
                "details": record.details,
                "date": record.date,
                "urls": list(record.urls),
                "studio": next(iter(self.store.names(record, "studio")), None),
                "performers": self.store.names(record, "performer"),
                "tags": self.store.names(record, "tag"),
                "files": list(record.files),
                "created_at": format_time(record.created_at, self.store.tz),
                "updated_at": format_time(record.updated_at, self.store.tz),
                "updated_at_epoch": record.updated_at,
            }

    def update_scene(self, scene_id: int | str, **fields: Any) -> dict[str, Any]:
        """Change fields (title, details, date, studio, performers, tags, files, ...)."""
        try:
            self.store.update(int(scene_id), **fields)
        except KeyError as exc:
            raise KeyError(f"no scene {scene_id}") from exc
        found = self.scene(scene_id)
        assert found is not None
        return found

    def delete_scene(self, scene_id: int | str) -> None:
        """``sceneDestroy`` (or the source of a ``sceneMerge``): the scene is gone."""
        self.store.delete(int(scene_id))

    def churn(self, count: int, *, cover: bool = False) -> list[str]:
        """Edit ``count`` random scenes (deterministic per seed); returns their ids. Only with
        ``cover`` do they get new covers: an edit leaves Stash's stored cover as it is."""
        changed = self.store.churn(count)
        if cover:
            for scene_id in changed:
                self.set_cover(scene_id)
        return changed

    def requests(self) -> list[dict[str, Any]]:
        """GraphQL operations received, oldest first (the last 10,000)."""
        with self._log_lock:
            return list(self._log)

    def clear_requests(self) -> None:
        with self._log_lock:
            self._log.clear()

    def screenshot(self, scene_id: int | str) -> bytes:
        """The image ``GET /scene/{id}/screenshot`` serves now (the placeholder if no cover)."""
        return self._screenshot(scene_id)[0]

    def _screenshot(self, scene_id: int | str) -> tuple[bytes, str]:
        record = self.store.get(int(scene_id))
        if record is None:
            raise KeyError(scene_id)
        with self._log_lock:
            covered = self._covers.get(record.id, bool(record.files))
            version = self._cover_versions.get(record.id, 0)
        if not covered:
            return PLACEHOLDER_SVG, SVG_TYPE
        # Stash serves the cover it stored; `?t=<updated_at>` in the URL only busts caches
        # (stashapp/stash internal/api/urlbuilders/scene.go GetScreenshotURL,
        # internal/manager/running_streams.go serving the stored cover).
        # Stash's generated covers are JPEGs (recorded: image/jpeg).
        return jpeg_bytes(f"{self.seed}/{record.id}/cover-{version}"), JPEG_TYPE

    def clear_cover(self, scene_id: int | str) -> None:
        """The scene has no cover: its screenshot URL serves Stash's placeholder."""
        with self._log_lock:
            self._covers[int(scene_id)] = False

    def set_cover(self, scene_id: int | str) -> None:
        """The scene gets a new cover (other bytes than any before)."""
        with self._log_lock:
            self._covers[int(scene_id)] = True
            self._cover_versions[int(scene_id)] = self._cover_versions.get(int(scene_id), 0) + 1

    def add_graphql_error(
        self, match: str = ".*", message: str = "database is locked", count: int | None = None
    ) -> None:
        """Operations whose query text matches ``match`` get a GraphQL error on HTTP 200."""
        try:
            pattern = re.compile(match)
        except re.error as exc:
            raise SimError(400, f"invalid match regex: {exc}") from exc
        with self._log_lock:
            self._gql_errors.append({"match": pattern, "message": message, "count": count})

    def clear_graphql_errors(self) -> None:
        with self._log_lock:
            self._gql_errors.clear()

    def add_page_hook(self, hook: Callable[[list[int]], None]) -> None:
        """``hook(ids)`` runs after each ``findScenes`` answer, with the ids it returned, before
        the client can ask for the next page."""
        with self._log_lock:
            self._page_hooks.append(hook)

    def edit_between_pages(self, count: int = 1, times: int | None = None) -> None:
        """After each page, edit the first ``count`` scenes it returned (``times`` pages)."""
        if count < 1 or (times is not None and times < 1):
            raise SimError(400, "count and times must be >= 1")
        left = [times]

        def edit(ids: list[int]) -> None:
            if left[0] is not None:
                if left[0] <= 0:
                    return
                left[0] -= 1
            for scene_id in ids[:count]:
                self.store.touch(scene_id, "between pages")

        self.add_page_hook(edit)

    def clear_page_hooks(self) -> None:
        with self._log_lock:
            self._page_hooks.clear()
            self._object_hooks.clear()

    # -- HTTP ----------------------------------------------------------------------------------
    def route(self, request: Request) -> str:
        if _SCREENSHOT.match(request.path):
            return f"{request.method} /scene/{{id}}/screenshot"
        if request.path.rstrip("/") == "/graphql":
            return f"{request.method} /graphql"
        return f"{request.method} <unmatched>"

    def handle(self, request: Request) -> Response:
        response = self._answer(request)
        # Go's net/http server adds Date to every answer unless a handler sets it (golang/go
        # src/net/http/server.go, `chunkWriter.writeHeader`); Stash does not set it.
        response.headers.setdefault("Date", email.utils.formatdate(self.store.now(), usegmt=True))
        return response

    def _answer(self, request: Request) -> Response:
        if self.api_key:
            given = request.header("ApiKey") or request.param("apikey")
            if given != self.api_key:
                return _unauthorised(request, given)
        if request.path.rstrip("/") == "/graphql":
            if is_upgrade(request):
                return self.subscriptions.upgrade()
            if request.method != "POST":
                raise SimError(405, "use POST for /graphql")
            return self._graphql(request)
        shot = _SCREENSHOT.match(request.path)
        if shot and request.method in ("GET", "HEAD"):
            try:
                return Response(200, *self._screenshot(shot.group(1)))
            except KeyError as exc:
                raise SimError(404, "no such scene") from exc
        raise SimError(404, "not found")

    def _graphql(self, request: Request) -> Response:
        try:
            payload = request.json()
        except SimError as exc:
            return _errors(400, exc.message)
        if not isinstance(payload, dict):
            return _errors(400, "the body must be a JSON object")
        query, variables = payload.get("query"), payload.get("variables")
        operation = payload.get("operationName")
        with self._log_lock:
            self._log.append({"query": query, "variables": variables, "operationName": operation})
        if not isinstance(query, str) or not query.strip():
            return _errors(422, "no operation provided")
        if variables is not None and not isinstance(variables, dict):
            return _errors(422, "variables must be an object")
        try:
            document = parse(query)
        except GraphQLError as exc:
            return json_response({"errors": [exc.formatted], "data": None}, 422)
        problems = validate(schema(), document)
        if problems:
            return json_response({"errors": [e.formatted for e in problems], "data": None}, 422)
        injected = self._take_graphql_error(query)
        if injected is not None:
            return json_response({"errors": [{"message": injected}], "data": None})
        host = request.header("Host") or f"127.0.0.1:{self.port}"
        context: dict[str, Any] = {"base_url": f"http://{host}", "served": []}
        result = execute_sync(
            schema(),
            document,
            root_value=self._root,
            context_value=context,
            variable_values=variables,
            operation_name=operation,
        )
        formatted = result.formatted
        for error in formatted.get("errors") or []:
            if "path" in error:  # gqlgen's resolver errors carry message and path only
                error.pop("locations", None)
        if context["served"]:
            with self._log_lock:
                hooks = list(self._page_hooks)
            for hook in hooks:
                hook(list(context["served"]))
        if result.errors and result.data is None and all(e.path is None for e in result.errors):
            return json_response(formatted, 422)  # bad variables or operation name
        return json_response(formatted)

    def _take_graphql_error(self, query: str) -> str | None:
        with self._log_lock:
            for rule in self._gql_errors:
                if rule["match"].search(query):
                    if rule["count"] is not None:
                        rule["count"] -= 1
                        if rule["count"] <= 0:
                            self._gql_errors.remove(rule)
                    return str(rule["message"])
        return None

    # -- control -------------------------------------------------------------------------------
    def control(self, request: Request) -> Response | None:
        path, method = request.path.rstrip("/"), request.method
        scene = _SCENE_CONTROL.match(path)
        if scene:
            return self._scene_control(method, scene.group(1), request)
        if path == "/__sim__/jobs" and method == "POST":
            return job_control(self.jobs, request)
        if path.startswith("/__sim__/objects/"):
            return object_control(self, path, method, request.json)
        if path == "/__sim__/churn" and method == "POST":
            body = request.json()
            count, cover = body.get("count", 1), body.get("cover", False)
            if not isinstance(count, int) or count < 0:
                raise SimError(400, '"count" must be a non-negative integer')
            if not isinstance(cover, bool):
                raise SimError(400, '"cover" must be true or false')
            return json_response({"changed": self.churn(count, cover=cover)})
        if path == "/__sim__/requests":
            if method == "DELETE":
                self.clear_requests()
            return json_response(self.requests())
        if path == "/__sim__/graphql_error":
            if method == "DELETE":
                self.clear_graphql_errors()
                return json_response({"graphql_errors": []})
            if method == "POST":
                body = request.json()
                self.add_graphql_error(
                    str(body.get("match", ".*")),
                    str(body.get("message", "database is locked")),
                    body.get("count"),
                )
                return json_response({"ok": True})
        if path == "/__sim__/page_edits":
            if method == "DELETE":
                self.clear_page_hooks()
                return json_response({"page_edits": []})
            if method == "POST":
                body = request.json()
                count, times = body.get("count", 1), body.get("times")
                if not isinstance(count, int) or not (times is None or isinstance(times, int)):
                    raise SimError(400, '"count" and "times" must be integers')
                self.edit_between_pages(count, times)
                return json_response({"ok": True})
        return None

    def _scene_control(self, method: str, scene_id: str, request: Request) -> Response:
        if method == "GET":
            found = self.scene(scene_id)
            if found is None:
                raise SimError(404, "no such scene")
            return json_response(found)
        if method != "POST":
            raise SimError(405, "use GET or POST")
        fields = request.json()
        if not isinstance(fields, dict):
            raise SimError(400, "body must be a JSON object of fields")
        try:
            return json_response(self.update_scene(scene_id, **fields))
        except KeyError as exc:
            raise SimError(404, "no such scene") from exc
        except (TypeError, ValueError) as exc:
            raise SimError(400, str(exc)) from exc


def _unauthorised(request: Request, given: str | None) -> Response:
    """Stash's answers without a valid key (internal/api/authentication.go): a wrong key is a
    bare 401; no key at all is a 401 for /graphql and for paths with a file extension, and a
    302 to the login page for the rest (a screenshot URL has none), carrying where to return."""
    unauthorised = Response(401, b"", "", {"WWW-Authenticate": "FormBased"})
    path = request.path
    extension = PurePosixPath(path).suffix  # Go's path.Ext
    if given or path.rstrip("/") == "/graphql" or extension not in ("", ".html"):
        return unauthorised
    back = path + (f"?{request.query}" if request.query else "")
    location = "/login?" + urllib.parse.urlencode({"returnURL": back})
    # Go's http.Redirect: an HTML link as the body of a GET (net/http/server.go Redirect).
    link = f'<a href="{html.escape(location)}">Found</a>.\n\n'
    body = b"" if request.method == "HEAD" else link.encode()
    return Response(302, body, "text/html; charset=utf-8", {"Location": location})


def _errors(status: int, message: str) -> Response:
    return json_response({"errors": [{"message": message}], "data": None}, status)
