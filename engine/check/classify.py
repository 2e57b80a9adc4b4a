"""How the library check sorts one page of Stash scenes, and the DLQ, into findings.

A scene whose item a listing cannot settle becomes a suspect, for a full-item read later. An
item whose `updatedAt` is older than our last write to it (Plex's database restored from a
backup) is not what we wrote: what we remember of it settles nothing.
"""

from __future__ import annotations

from typing import Any

from engine.check.drift import compare, settled_by_our_write
from engine.clock import Clock
from engine.config.file import PlexSyncConfig
from engine.errors import AmbiguousMatchError, ErrorClass, PossibleMatchError
from engine.plan.desired import desired_state
from engine.plan.gates import gate_reason
from engine.plan.matching import PathIndex
from engine.plex.model import PlexItem
from engine.stash.scene import StashScene
from engine.store.checks import CheckKind, CheckStore, Finding
from engine.store.jobs import JobStore, payload_hash
from engine.store.plex_index import restored

Suspect = tuple[str, str, str, str, dict[str, Any]]  # scene, rating key, section, key, payload
# Collections change from the collection's side without moving the item's updatedAt: neither a
# baseline nor our own write settles them, only a listing that shows them whole or a read.
COLLECTION = "collection"


class Classifier:
    """Findings for scenes, against the check's index of swept Plex items."""

    def __init__(self, checks: CheckStore, jobs: JobStore, index: PathIndex, clock: Clock) -> None:
        self._checks = checks
        self._jobs = jobs
        self._index = index
        self._clock = clock

    def previous(self, scene_id: str) -> dict[str, Any] | None:
        pushed = self._jobs.pushed(scene_id)
        return pushed.state if pushed else None

    def match(self, files: list[str], config: PlexSyncConfig) -> PlexItem | None:
        return self.locate(files, config)[0]

    def locate(
        self, files: list[str], config: PlexSyncConfig
    ) -> tuple[PlexItem | None, PossibleMatchError | None]:
        """The scene's item, or None and the possible match that is not surely its."""
        find = self._index.find if config.strict_matching else self._index.find_loose
        try:
            match = find(files, config.path_mappings)
        except AmbiguousMatchError:
            return None, None  # the DLQ lists ambiguous scenes with their candidates
        except PossibleMatchError as exc:
            return None, exc
        return None if match is None else match.item, None

    def classify(
        self, state: dict[str, Any], scenes: list[StashScene], config: PlexSyncConfig
    ) -> int:
        """Findings and suspects for one page of scenes; returns how many had a file."""
        # Scenes a gate keeps out are not the check's business: nothing is meant to be in Plex.
        with_files = [s for s in scenes if s.files and gate_reason(s.payload(), config) is None]
        findings: list[Finding] = []
        matched: list[tuple[StashScene, PlexItem, dict[str, Any]]] = []
        now = self._clock.now()
        for scene in with_files:
            job = self._jobs.get_job(scene.id)
            if job is not None and job.not_before <= now:
                continue  # ready in the queue: the normal sync is about to write it
            previous = self.previous(scene.id)
            item, possible = self.locate(list(scene.files), config)
            findings += self._placement(scene, item, previous, possible)
            ours = previous is not None and str(previous.get("rating_key"))
            if item is not None and previous is not None and ours == item.rating_key:
                matched.append((scene, item, previous))
        suspects = self._settle(matched, float(state["started_at"]), config, findings)
        self._checks.put_findings(int(state["id"]), findings)
        self._checks.add_suspects(suspects)
        self._checks.note_scenes(scene.id for scene in with_files)
        return len(with_files)

    def _placement(
        self,
        scene: StashScene,
        item: PlexItem | None,
        previous: dict[str, Any] | None,
        possible: PossibleMatchError | None = None,
    ) -> list[Finding]:
        """Orphan, not in Plex, possible match, never synced: where the scene stands, before
        any field."""
        found = []
        gone = previous.get("rating_key") if previous else None
        if gone and not self._checks.index_has(str(gone)):
            found.append(self._finding(scene, CheckKind.ORPHAN, str(gone), "item gone"))
        if possible is not None:
            key = possible.candidates[0][2]
            detail = ", ".join(plex for _s, plex, _k in possible.candidates[:5])
            found.append(self._finding(scene, CheckKind.POSSIBLE_MATCH, key, detail))
        elif item is None:
            found.append(self._finding(scene, CheckKind.NOT_IN_PLEX, None))
        elif (previous is not None and str(previous.get("rating_key")) != item.rating_key) or (
            previous is None and scene.has_metadata
        ):
            found.append(self._finding(scene, CheckKind.NEVER_SYNCED, item.rating_key))
        return found

    def _settle(
        self,
        matched: list[tuple[StashScene, PlexItem, dict[str, Any]]],
        swept_from: float,
        config: PlexSyncConfig,
        findings: list[Finding],
    ) -> list[Suspect]:
        """Drift of items we synced, from listings where they prove it; the rest are suspects."""
        written = self._checks.written([scene.id for scene, _i, _p in matched])
        bases = self._checks.baselines([item.rating_key for _s, item, _p in matched])
        plex_writes = self._jobs.plex_writes([item.rating_key for _s, item, _p in matched])
        suspects: list[Suspect] = []
        for scene, item, previous in matched:
            payload = scene.payload()
            key = compare_key(payload, previous, config)
            base = bases.get(item.rating_key)
            write = written.get(scene.id)
            if write is not None and write[1] >= swept_from:
                # We wrote it while this check ran: the swept listing may predate that write.
                suspects.append((scene.id, item.rating_key, item.section_key, key, payload))
                continue
            # Genres and actors as our last write left them, while Plex's updatedAt has neither
            # passed it nor gone back before it; collections only as this listing shows them.
            known = self._jobs.known_tags(item)
            result = compare(payload, known or item, config, previous=previous)
            if base is not None and (base.updated_at, base.compare_key) == (item.updated_at, key):
                undecided = [kind for kind in result.undecided if kind == COLLECTION]
                fields = _with_collection(base.fields, result.fields)
                kept = _with_collection(base.kept, result.kept)
            else:
                unchanged = _unchanged_since_write(item, write) and not restored(
                    item.updated_at, plex_writes.get(item.rating_key)
                )
                undecided = [
                    kind
                    for kind in result.undecided
                    if kind == COLLECTION
                    or not (unchanged and settled_by_our_write(payload, config, previous, kind))
                ]
                fields, kept = tuple(result.fields), tuple(result.kept)
            if undecided:
                suspects.append((scene.id, item.rating_key, item.section_key, key, payload))
                continue
            if fields or kept:
                findings.append(self.drift(scene.id, payload, item.rating_key, fields, kept))
        return suspects

    @staticmethod
    def _finding(
        scene: StashScene, kind: CheckKind, rating_key: str | None, detail: str = ""
    ) -> Finding:
        return Finding(scene.id, kind, scene.title, scene.payload(), (), (), rating_key, detail)

    @staticmethod
    def drift(
        scene_id: str,
        payload: dict[str, Any],
        rating_key: str,
        fields: tuple[str, ...],
        kept: tuple[str, ...],
    ) -> Finding:
        title = str(payload.get("title") or "")
        return Finding(scene_id, CheckKind.DRIFTED, title, payload, fields, kept, rating_key)

    def dlq_findings(self, config: PlexSyncConfig) -> list[Finding]:
        """Dead-lettered scenes whose cause has gone: the file is in Plex now, or the token that
        was rejected works again (this check just read every section with it)."""
        found = []
        for entry in self._jobs.dlq_list(limit=1_000_000):
            detail = ""
            files = [str(p) for p in entry.payload.get("files") or []]
            gone = (ErrorClass.NOT_FOUND, ErrorClass.POSSIBLE_MATCH)
            if entry.error_class in gone and self.match(files, config):
                detail = "the file is in Plex now"
            elif entry.error_class == ErrorClass.AUTH:
                detail = "Plex accepts the token again"
            if detail:
                found.append(
                    Finding(
                        entry.scene_id,
                        CheckKind.DLQ_RESOLVED,
                        entry.title,
                        entry.payload,
                        detail=detail,
                        dlq_id=entry.id,
                    )
                )
        return found


def _with_collection(before: tuple[str, ...], now: list[str]) -> tuple[str, ...]:
    """A full read's result, with the collection verdict taken from this listing instead."""
    return tuple(f for f in before if f != COLLECTION) + tuple(f for f in now if f == COLLECTION)


def _unchanged_since_write(item: PlexItem, write: tuple[str, float] | None) -> bool:
    """Plex has not touched the item since our last write to it returned. (Plex's clock: one
    that runs behind ours by d seconds hides an edit made within d seconds after our write.)"""
    return write is not None and write[0] == item.rating_key and item.updated_at <= write[1]


def compare_key(
    payload: dict[str, Any], previous: dict[str, Any] | None, config: PlexSyncConfig
) -> str:
    """What a comparison's result depends on besides the item itself."""
    return payload_hash(
        {
            "want": desired_state(payload, config),
            "ours": previous,
            "keep": config.preserve_plex_edits,
        }
    )
