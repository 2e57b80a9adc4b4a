"""The Stash simulator's tags, performers and studios: its test API and control routes.

See stash_objects for what a rename, a merge and a delete do, and where Stash does the same.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from plexsync_sim.http_base import Response, SimError, json_response
from plexsync_sim.stash.objects import KINDS, object_dict, select_objects
from plexsync_sim.stash.scenes import SceneStore, format_time


class ObjectApi:
    """Mixed into StashSimulator: ``findTags``/``findPerformers``/``findStudios`` and edits."""

    store: SceneStore
    _log_lock: threading.Lock
    _object_hooks: list[Callable[[str, list[int]], None]]

    def find_objects(
        self, kind: str, object_filter: Any, args: dict[str, Any], field: str
    ) -> dict[str, Any]:
        """A ``findTags``/``findPerformers``/``findStudios`` answer."""
        with self.store.lock:
            count, chosen = select_objects(
                self.store.objects, kind, object_filter, args.get("filter"), args.get("ids"),
                format_time,
            )  # fmt: skip
            found = [object_dict(o, format_time, self.store.tz, self.store.objects) for o in chosen]
        with self._log_lock:
            hooks = list(self._object_hooks)
        for hook in hooks:
            hook(kind, [o.id for o in chosen])
        return {"count": count, field: found}

    def object(self, kind: str, object_id: int | str) -> dict[str, Any] | None:
        """A tag, performer or studio as plain JSON, or None (destroyed or merged away)."""
        with self.store.lock:
            found = self.store.objects.get(kind, int(object_id))
            if found is None or not found.live:
                return None
            return object_dict(found, format_time, self.store.tz, self.store.objects)

    def object_id(self, kind: str, name: str) -> int:
        """The id of the live object called ``name`` (created if none is)."""
        with self.store.lock:
            return self.store.objects.ref(kind, name)

    def rename_object(self, kind: str, object_id: int | str, name: str) -> dict[str, Any]:
        """``tagUpdate``/``performerUpdate``/``studioUpdate`` with a new name."""
        with self.store.lock:
            self.store.objects.rename(kind, int(object_id), name)
        found = self.object(kind, object_id)
        assert found is not None
        return found

    def merge_objects(self, kind: str, sources: list[int | str], destination: int | str) -> None:
        """``tagsMerge`` or ``performerMerge`` (Stash has no studio merge)."""
        with self.store.lock:
            self.store.objects.merge(kind, [int(s) for s in sources], int(destination))

    def destroy_object(self, kind: str, object_id: int | str) -> None:
        with self.store.lock:
            self.store.objects.destroy(kind, int(object_id))

    def add_object_page_hook(self, hook: Callable[[str, list[int]], None]) -> None:
        """``hook(kind, ids)`` runs after each ``findTags``/``findPerformers``/``findStudios``."""
        with self._log_lock:
            self._object_hooks.append(hook)


def object_control(sim: Any, path: str, method: str, body: Callable[[], Any]) -> Response | None:
    """``/__sim__/objects/{kind}/{id}`` (GET, POST ``{"name"}`` to rename, DELETE) and
    ``/__sim__/objects/{kind}/merge`` (POST ``{"source": [ids], "destination": id}``)."""
    parts = path.split("/")[3:]
    if len(parts) != 2 or parts[0] not in KINDS:
        return None
    kind, target = parts
    try:
        if target == "merge" and method == "POST":
            request = body()
            sim.merge_objects(kind, list(request["source"]), request["destination"])
            return json_response(sim.object(kind, request["destination"]))
        object_id = int(target)
        if method == "POST":
            return json_response(sim.rename_object(kind, object_id, str(body()["name"])))
        if method == "DELETE":
            sim.destroy_object(kind, object_id)
            return json_response({"destroyed": object_id})
    except KeyError as exc:
        raise SimError(404, str(exc)) from exc
    except (TypeError, ValueError) as exc:
        raise SimError(400, str(exc)) from exc
    found = sim.object(kind, object_id)
    if found is None:
        raise SimError(404, f"no {kind} {object_id}")
    return json_response(found)
