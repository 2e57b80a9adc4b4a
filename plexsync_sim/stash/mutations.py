"""The GraphQL mutations the Stash simulator answers, as Stash's resolvers do.

Tests shape their data with these, as they would against a real Stash; the conformance corpus
(tests/conformance) holds the real answers each must match. Errors are Stash's own messages:

- a missing scene: "scene with id N not found" (internal/api/resolver_mutation_scene.go);
- a missing tag, performer or studio to update or merge: "<kind> with id N not found";
- destroying a missing object: "id N does not exist in tags" (pkg/sqlite/table.go
  ``NotFoundError``);
- a taken name: "tag with name 'x' already exists" (pkg/tag/update.go; studio and performer
  alike).

Stamps: every scene edit, and a scene merge's destination (``models.NewScenePartial`` stamps
``UpdatedAt``), get ``updated_at`` now; what object edits do to scenes is in stash_objects.
"""

from __future__ import annotations

from typing import Any, Protocol

from graphql import GraphQLError

from plexsync_sim.stash.jobs import SimJobs
from plexsync_sim.stash.objects import object_dict
from plexsync_sim.stash.query import scene_object
from plexsync_sim.stash.scenes import SceneRecord, SceneStore, format_time

SCAN_SECONDS = 0.5  # a simulated scan's length: long enough for a subscriber to see it run
_TEXT = ("title", "code", "details", "director", "date", "urls", "rating100", "organized")
_JOINS = {"studio_id": "studio", "performer_ids": "performer", "tag_ids": "tag"}


def _int(value: Any, what: str = "id") -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise GraphQLError(f"converting {what}: invalid id {value!r}") from exc


class MutationHost(Protocol):
    """What the mutations need of the simulator (a Protocol, so this module needs not import
    the server that imports it)."""

    store: SceneStore
    jobs: SimJobs

    def object(self, kind: str, object_id: int | str) -> dict[str, Any] | None: ...


class Mutations:
    """Mixed into the simulator's root value: one method per ``Mutation`` field."""

    _sim: MutationHost

    # -- scenes --------------------------------------------------------------------------------
    def _scene_changes(self, values: dict[str, Any]) -> dict[str, Any]:
        """SceneCreateInput/SceneUpdateInput values as SceneStore fields (objects by id)."""
        objects = self._sim.store.objects
        changes = {key: values[key] for key in _TEXT if key in values}
        for key, kind in _JOINS.items():
            if key not in values:
                continue
            given = values[key]
            ids = [] if given is None else [given] if kind == "studio" else list(given)
            found = []
            for raw in ids:
                obj = objects.get(kind, _int(raw))
                if obj is None or not obj.live:
                    raise GraphQLError(f"{kind} with id {raw} not found")
                found.append(obj.id)
            unique = list(dict.fromkeys(found))
            changes[{"studio": "studio", "performer": "performers", "tag": "tags"}[kind]] = (
                (unique[0] if unique else None) if kind == "studio" else unique
            )
        for key in ("title", "code", "details", "director"):
            if key in changes and changes[key] is None:
                changes[key] = ""  # Stash stores unset text as ""
        if "groups" in values:  # SceneGroupInput: the list replaces the scene's groups
            pairs = []
            for entry in values["groups"] or []:
                group = objects.get("group", _int(entry["group_id"]))
                if group is None or not group.live:
                    raise GraphQLError(f"group with id {entry['group_id']} not found")
                pairs.append((group.id, entry.get("scene_index")))
            changes["groups"] = pairs
        if "stash_ids" in values:  # the list replaces the scene's (stashapp/stash scene.go)
            changes["stash_ids"] = [
                (str(entry["endpoint"]), str(entry["stash_id"]))
                for entry in values["stash_ids"] or []
            ]
        return changes

    def _scene(self, info: Any, record: SceneRecord) -> dict[str, Any]:
        return scene_object(self._sim.store, record, info.context["base_url"])

    def sceneCreate(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        store = self._sim.store
        with store.lock:
            return self._scene(info, store.create(**self._scene_changes(input)))

    def sceneUpdate(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        store, scene_id = self._sim.store, _int(input["id"])
        with store.lock:
            if store.get(scene_id) is None:
                raise GraphQLError(f"scene with id {scene_id} not found")
            changes = self._scene_changes({k: v for k, v in input.items() if k != "id"})
            return self._scene(info, store.update_ids(scene_id, **changes))

    def sceneMerge(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        """The sources' files go to the destination, the sources are destroyed, ``values``
        apply to the destination (pkg/scene/merge.go ``Merge``); tags and performers are not
        merged (recorded: a merged scene keeps only its own)."""
        store, destination = self._sim.store, _int(input["destination"])
        sources = [_int(s) for s in input["source"]]
        with store.lock:
            target = store.get(destination)
            if target is None:
                raise GraphQLError(f"scene with id {destination} not found")
            files = list(target.files)
            for source in sources:
                record = store.get(source)
                if record is None:
                    raise GraphQLError(f"scene with id {source} not found")
                files.extend(record.files)
            for source in sources:
                store.delete(source)
            changes = self._scene_changes(input.get("values") or {})
            return self._scene(info, store.update_ids(destination, files=files, **changes))

    def sceneDestroy(self, info: Any, input: dict[str, Any]) -> bool:
        """The scene goes; its files stay on disk unless ``delete_file`` (a later scan makes a
        new scene of a file left behind, which the simulator leaves to ``add_scene``)."""
        store, scene_id = self._sim.store, _int(input["id"])
        with store.lock:
            if store.get(scene_id) is None:
                raise GraphQLError(f"scene with id {scene_id} not found")
            store.delete(scene_id)
        return True

    # -- tags, performers, studios -------------------------------------------------------------
    def _create(self, info: Any, kind: str, input: dict[str, Any]) -> dict[str, Any]:
        store = self._sim.store
        aliases = input.get("aliases") or input.get("alias_list") or []
        with store.lock:
            try:
                created = store.objects.create(kind, str(input["name"]), aliases)
                if kind == "group":
                    created.synopsis = input.get("synopsis")
                if kind == "tag" and input.get("parent_ids"):
                    store.objects.set_tag_parents(created.id, self._tag_ids(input["parent_ids"]))
                if kind == "performer" and input.get("tag_ids"):
                    created.tags = self._tag_ids(input["tag_ids"])
                if kind == "studio" and input.get("parent_id") is not None:
                    store.objects.set_parent(created.id, _int(input["parent_id"]))
            except KeyError as exc:
                raise GraphQLError(str(exc.args[0])) from exc
            except ValueError as exc:
                raise GraphQLError(str(exc)) from exc
            return object_dict(created, format_time, store.tz, store.objects)

    def _tag_ids(self, given: list[Any] | None) -> list[int]:
        """A performer's `tag_ids`: each must be a live tag ("tag with id 7 not found")."""
        found = []
        for raw in given or []:
            tag = self._sim.store.objects.get("tag", _int(raw))
            if tag is None or not tag.live:
                raise GraphQLError(f"tag with id {raw} not found")
            found.append(tag.id)
        return list(dict.fromkeys(found))

    def _update(self, info: Any, kind: str, input: dict[str, Any]) -> dict[str, Any]:
        store, object_id = self._sim.store, _int(input["id"])
        with store.lock:
            try:
                if input.get("name") is not None:
                    store.objects.rename(kind, object_id, str(input["name"]))
                else:
                    store.objects.touch(kind, object_id)
                if kind == "tag" and "parent_ids" in input:
                    store.objects.touch(kind, object_id)
                    store.objects.set_tag_parents(object_id, self._tag_ids(input["parent_ids"]))
                if kind == "performer" and "tag_ids" in input:
                    store.objects.touch(kind, object_id).tags = self._tag_ids(input["tag_ids"])
                if kind == "group" and "synopsis" in input:
                    store.objects.touch(kind, object_id).synopsis = input["synopsis"]
                if kind == "studio" and "parent_id" in input:
                    parent = input["parent_id"]
                    store.objects.set_parent(object_id, None if parent is None else _int(parent))
            except KeyError as exc:
                raise GraphQLError(str(exc.args[0])) from exc
            except ValueError as exc:
                raise GraphQLError(str(exc)) from exc
        found = self._sim.object(kind, object_id)
        assert found is not None
        return found

    def _merge(self, kind: str, input: dict[str, Any]) -> dict[str, Any]:
        store, destination = self._sim.store, _int(input["destination"])
        with store.lock:
            try:
                store.objects.merge(kind, [_int(s) for s in input["source"]], destination)
            except KeyError as exc:
                raise GraphQLError(str(exc.args[0])) from exc
            except ValueError as exc:
                raise GraphQLError(str(exc)) from exc
        found = self._sim.object(kind, destination)
        assert found is not None
        return found

    def _destroy(self, kind: str, input: dict[str, Any]) -> bool:
        store = self._sim.store
        with store.lock:
            try:
                store.objects.destroy(kind, _int(input["id"]))
            except KeyError as exc:
                raise GraphQLError(str(exc.args[0])) from exc
        return True

    def tagCreate(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        return self._create(info, "tag", input)

    def tagUpdate(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        return self._update(info, "tag", input)

    def tagsMerge(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        return self._merge("tag", input)

    def tagDestroy(self, info: Any, input: dict[str, Any]) -> bool:
        return self._destroy("tag", input)

    def performerCreate(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        return self._create(info, "performer", input)

    def performerUpdate(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        return self._update(info, "performer", input)

    def performerMerge(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        return self._merge("performer", input)

    def studioCreate(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        return self._create(info, "studio", input)

    def studioUpdate(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        return self._update(info, "studio", input)

    def studioDestroy(self, info: Any, input: dict[str, Any]) -> bool:
        return self._destroy("studio", input)

    def groupCreate(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        return self._create(info, "group", input)

    def groupUpdate(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        return self._update(info, "group", input)

    def groupDestroy(self, info: Any, input: dict[str, Any]) -> bool:
        return self._destroy("group", input)

    # -- jobs ----------------------------------------------------------------------------------
    def metadataScan(self, info: Any, input: dict[str, Any]) -> str:
        """A scan job: queued, run for ``SCAN_SECONDS``, finished; it finds no new files (the
        simulator's files are its catalogue). Answers the job's id, like Stash."""
        job_id, _thread = self._sim.jobs.queue("scan", [], {}, duration=SCAN_SECONDS)
        return job_id
