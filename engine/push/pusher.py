"""One queued scene into Plex: find its item by path, plan the edit, one PUT, the poster if it
changed. The engine around it decides what a failure means (breaker, retry, DLQ).

Three steps, so the requests can run on a worker thread: `prepare` (engine thread: match and
plan from the store), `execute` (any thread: only HTTP, through the clients it is given) and
`commit` (engine thread: what the requests did goes into the store). `fetch_image` returns no
bytes for Stash's placeholder (a scene without a cover): no poster is sent.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from engine.clock import Clock
from engine.config.file import PlexSyncConfig
from engine.errors import (
    AmbiguousMatchError,
    ErrorClass,
    NotFoundError,
    PossibleMatchError,
    SyncError,
)
from engine.path_keys import path_key
from engine.plan.claims import Lookup, check_claim
from engine.plan.desired import (
    NEWER_FIELDS,
    NO_RATING,
    EditPlan,
    Wanted,
    apply_params,
    plan_edit,
    plan_rating,
    wanted_state,
)
from engine.plan.matching import Match, PathIndex, key_under, map_path, not_found
from engine.plex.model import PlexItem, PlexSection
from engine.plex.target import PlexTarget
from engine.push.artwork import poster_bytes, poster_digest
from engine.push.index_follow import IndexFollower
from engine.stash.scene import Screenshot, screenshot_stamp
from engine.store.claims import ClaimStore
from engine.store.jobs import Job, JobStore, Pushed

logger = logging.getLogger(__name__)

ART_KEY = "_art"  # in a record's state: the hash of the background art we sent
SHAPE_KEY = "_poster_shape"  # in a record's state: the shape of the poster we sent
SCAN_KEY = "scan_asked:"  # + the folder's path key: when Plex was last asked to scan it
SCAN_EVERY = 3600.0  # seconds: one scan per folder per hour at most


@dataclass(frozen=True)
class PushResult:
    """What stands in Plex now, and what Plex could not take as Stash has it."""

    record: Pushed
    notes: list[str] = field(default_factory=list)
    wrote: bool = False  # the metadata PUT was sent (the library check trusts Plex's updatedAt)


@dataclass(frozen=True)
class Prepared:
    """A job matched and planned on the engine thread: what its requests need."""

    job: Job
    item: PlexItem  # as the index and our memory know it
    plan: EditPlan
    previous: Pushed | None
    full: PlexItem | None = None  # the full item, already read with the batch
    force: bool = False  # a library check's Fix: read the item and write even if unchanged
    claim: bool = False  # the item is newly this scene's: recorded when the job settles


@dataclass
class Executed:
    """What a job's requests did, as far as they got (filled on a worker thread)."""

    plan: EditPlan
    full: PlexItem | None = None  # read for this job: its tags are remembered
    edited: PlexItem | None = None  # the item as Plex holds it after our PUT
    written_at: int | None = None
    poster: tuple[str | None, str | None] | None = None  # (source, hash) now in Plex
    artwork: dict[str, str | None] = field(default_factory=dict)  # ART_KEY, SHAPE_KEY now
    error: Exception | None = None  # the metadata failed: nothing of the job reached Plex
    poster_error: SyncError | None = None  # the metadata is in Plex, the poster is not
    missing: PlexItem | None = None  # Plex no longer has the item
    calls: int = 0  # Plex requests sent
    seconds: float = 0.0  # how long they took

    @property
    def latency(self) -> float | None:
        """Seconds per Plex request, or None when none was sent."""
        return self.seconds / self.calls if self.calls else None


@dataclass(frozen=True)
class _Planned:
    item: PlexItem
    previous: Pushed | None
    plan: EditPlan


class PosterPending(Exception):
    """The metadata reached Plex (`record`), the poster did not (`cause`); retry only the poster."""

    def __init__(self, record: Pushed, cause: SyncError, *, wrote: bool = False) -> None:
        super().__init__(str(cause))
        self.record = record
        self.cause = cause
        self.wrote = wrote


class ScenePusher:
    """Holds the path index of Plex items between jobs (see `engine.push.index_follow`)."""

    def __init__(self, clock: Clock, storage: JobStore) -> None:
        self._clock = clock
        self._storage = storage
        self._follower = IndexFollower(clock, PathIndex(storage, storage), storage)
        self._refreshed_at = float("-inf")  # monotonic: the last refresh after a miss
        self._prefetched: dict[str, PlexItem] = {}  # full items read for the jobs in hand
        self._planned: dict[str, _Planned] = {}  # scene id -> its plan, made with the batch
        self._planned_at = 0  # the index's `follows` when those plans were made
        self._written: set[str] = set()  # rating keys committed since
        # scene id -> (payload hash, settings, what Plex should show), for the jobs in hand
        self._wanted: dict[str, tuple[str, PlexSyncConfig, Wanted]] = {}

    def forget_index(self) -> None:
        """Sweep the whole library again before the next job (another Plex, a library check)."""
        self._follower.forget()

    def index_for(self, plex: PlexTarget, config: PlexSyncConfig) -> PathIndex:
        """The path index the next job matches against (swept first if there is none)."""
        return self._follower.ensure(plex, config)

    def refresh_index(self) -> None:
        """Look for what changed in Plex before the next job (Plex was away)."""
        self._follower.refresh_soon()

    def found_now(
        self, plex: PlexTarget, config: PlexSyncConfig, files_by_scene: dict[str, list[str]]
    ) -> list[str]:
        """Plex says it gained items: read them now; the scenes whose files it has now."""
        self._follower.refresh_soon()
        index = self._follower.ensure(plex, config)  # one incremental read (or the first sweep)
        self._refreshed_at = self._clock.monotonic()
        found = []
        for scene_id, files in files_by_scene.items():
            try:
                match = index.find(files, config.path_mappings) if files else None
            except (AmbiguousMatchError, PossibleMatchError):
                match = None
                found.append(scene_id)  # present, if not surely: the job says which
            if match is not None:
                found.append(scene_id)
        return found

    def prepare(
        self,
        job: Job,
        *,
        config: PlexSyncConfig,
        plex: PlexTarget,
        force: bool = False,
        claims: ClaimStore | None = None,
        lookup: Lookup | None = None,
    ) -> Prepared:
        """Match and plan on the engine thread (the index and our memory are in the store).

        `force` (a library check's Fix) writes even when the state equals what we last pushed:
        Plex changed behind our back, so the full item is read first. With `claims` and
        `lookup` (Stash's scenes by id), a Plex item another scene still has in Stash is
        refused (`file_claims`).
        """
        index = self._follower.ensure(plex, config)
        ahead = self._planned.pop(job.scene_id, None)
        stale = self._follower.follows != self._planned_at
        if ahead is None or stale or ahead.item.rating_key in self._written:
            files = [str(p) for p in job.payload.get("files") or []]
            match = self._match(index, plex, config, files)
            ahead = self._plan(job, self._storage.known_tags(match.item) or match.item, config)
        claim = False
        if claims is not None and lookup is not None:
            claim, ahead = self._claim(job, ahead, index, config, claims, lookup)
        item, previous, plan = ahead.item, ahead.previous, ahead.plan
        prev_state = previous.state if previous else None
        full = None
        if force or (state_moved(plan.state, prev_state) and plan.needs_full_item):
            full = self._prefetched.pop(item.rating_key, None)
            if full is not None:
                plan = plan_edit(
                    job.payload, full, config, previous=prev_state, wanted=self._want(job, config)
                )
        return Prepared(job, item, plan, previous, full, force=force, claim=claim)

    def _plan(
        self, job: Job, item: PlexItem, config: PlexSyncConfig, previous: Pushed | None = None
    ) -> _Planned:
        previous = previous or self._storage.pushed(job.scene_id)
        prev_state = previous.state if previous else None
        wanted = self._want(job, config)
        plan = plan_edit(job.payload, item, config, previous=prev_state, wanted=wanted)
        return _Planned(item, previous, plan)

    def _want(self, job: Job, config: PlexSyncConfig) -> Wanted:
        """What Plex should show for the job, worked out once per job and settings."""
        known = self._wanted.get(job.scene_id)
        if known is not None and known[0] == job.payload_hash and known[1] is config:
            return known[2]
        wanted = wanted_state(job.payload, config)
        self._wanted[job.scene_id] = (job.payload_hash, config, wanted)
        return wanted

    def _claim(
        self,
        job: Job,
        ahead: _Planned,
        index: PathIndex,
        config: PlexSyncConfig,
        claims: ClaimStore,
        lookup: Lookup,
    ) -> tuple[bool, _Planned]:
        """The item for this scene (and whether it is newly its), unless another scene on its
        file keeps it (raises)."""

        def other_match(files: list[str]) -> Match | None:
            try:
                return index.find(files, config.path_mappings)
            except (AmbiguousMatchError, PossibleMatchError):
                return None  # not provably on this item

        new, taken_from = check_claim(
            claims, job.scene_id, ahead.item, lookup=lookup, find=other_match
        )
        if taken_from is None:
            return new, ahead
        # A new item for this scene: what the scene that had it wrote there is what goes (our
        # own last write was to another item).
        state = claims.written_state(taken_from)
        if not state:
            plan = plan_edit(job.payload, ahead.item, config, previous=None)
            return new, _Planned(ahead.item, None, plan)
        previous = Pushed(job.scene_id, "", state, None, None)
        return new, self._plan(job, ahead.item, config, previous)

    def commit(self, prepared: Prepared, done: Executed) -> PushResult:
        """Store what the requests did; raises their error (PosterPending: metadata only)."""
        index = self._follower.index
        self._written.add(prepared.item.rating_key)  # plans made ahead for it are stale now
        if prepared.claim:  # in the settling transaction, whatever the requests did
            self._storage.claim(prepared.item.rating_key, prepared.job.scene_id)
        edited = done.edited
        # Every tag is known as we wrote it, until Plex's updatedAt passes our write; what we
        # read before the write is remembered only when the write does not replace it.
        known = edited if edited and edited.complete and done.written_at is not None else None
        for full in (prepared.full, done.full):
            if full is not None and (known is None or full.rating_key != known.rating_key):
                self._storage.known_put(full, full.updated_at)
        if done.missing is not None:
            self._gone(index, done.missing)
        wrote = edited is not None and bool(done.plan.params)  # the PUT (a rating is apart)
        if edited is not None:
            if done.written_at is not None:  # Plex stamped the item at most then
                edited = replace(edited, updated_at=max(edited.updated_at, done.written_at))
                self._storage.note_plex_write(edited.rating_key, done.written_at)
            index.update(edited)
        if known is not None and done.written_at is not None:
            self._storage.known_put(known, done.written_at)
        if done.error is not None:
            raise done.error
        job, previous = prepared.job, prepared.previous
        for note in done.plan.notes:
            logger.info("Scene %s: %s", job.scene_id, note)
        old_source = previous.poster_source if previous else None
        old_hash = previous.poster_hash if previous else None
        state = {**done.plan.state, **artwork_memo(previous), **done.artwork}
        metadata = Pushed(job.scene_id, job.payload_hash, state, old_source, old_hash)
        if done.poster_error is not None:
            cause = done.poster_error
            raise PosterPending(metadata, cause, wrote=wrote) from cause
        source, digest = done.poster or (old_source, old_hash)
        record = replace(metadata, poster_source=source, poster_hash=digest)
        return PushResult(record, done.plan.notes, wrote=wrote)

    def prefetch(self, jobs: list[Job], *, config: PlexSyncConfig, plex: PlexTarget) -> None:
        """Plan the jobs in hand, and read in one request the full items they will need.

        One request for a batch instead of one per scene; each is used by its job moments
        later, as a read just before the edit would be. A failure here costs nothing: each
        job then reads its item itself, and its errors count as usual. The plans are kept for
        `prepare`, unless the index moved or the item was written in between.
        """
        self._prefetched, self._planned, self._written, self._wanted = {}, {}, set(), {}
        index = self._follower.ensure(plex, config)
        self._planned_at = self._follower.follows
        wanted: dict[str, list[str]] = {}
        for job in jobs:
            ahead = self._plan_ahead(job, index, config)
            if ahead is None:
                continue
            self._planned[job.scene_id] = ahead
            prev_state = ahead.previous.state if ahead.previous else None
            if state_moved(ahead.plan.state, prev_state) and ahead.plan.needs_full_item:
                wanted.setdefault(ahead.item.section_key, []).append(ahead.item.rating_key)
        for section_key, keys in wanted.items():
            if len(keys) < 2:
                continue
            try:
                items = plex.fetch_items(keys, section_key)
            except SyncError as exc:
                logger.debug("Reading %d items at once failed: %s", len(keys), exc)
                return
            self._prefetched.update((full.rating_key, full) for full in items)

    def _plan_ahead(self, job: Job, index: PathIndex, config: PlexSyncConfig) -> _Planned | None:
        """The job's plan if its item is in the index (no refresh, no error: `prepare` does)."""
        files = [str(p) for p in job.payload.get("files") or []]
        find = index.find if config.strict_matching else index.find_loose
        try:
            match = find(files, config.path_mappings) if files else None
        except SyncError:
            return None
        if match is None:
            return None
        return self._plan(job, self._storage.known_tags(match.item) or match.item, config)

    def _gone(self, index: PathIndex, item: PlexItem) -> None:
        """Deleted in Plex since we looked: forget it, and look for what replaced it."""
        index.remove(item)
        self._follower.refresh_soon()

    def _refresh(self, plex: PlexTarget, config: PlexSyncConfig) -> bool:
        """After a miss: look for what Plex gained, at most once per poll interval."""
        now = self._clock.monotonic()
        if now - self._refreshed_at < config.poll_interval:
            return False
        self._refreshed_at = now
        self._follower.follow(plex, config)
        return True

    def _match(
        self, index: PathIndex, plex: PlexTarget, config: PlexSyncConfig, files: list[str]
    ) -> Match:
        if not files:
            raise NotFoundError("The scene has no files", "nothing to match in Plex")
        find = index.find if config.strict_matching else index.find_loose
        try:
            match = find(files, config.path_mappings)
        except PossibleMatchError:
            # Never written: dead-lettered with its candidates for the user to confirm, unless
            # Plex has the scene's own file by now.
            if not self._refresh(plex, config):
                raise
            match = find(files, config.path_mappings)
        else:
            if match is None and self._refresh(plex, config):
                match = find(files, config.path_mappings)
        if match is None:
            if config.scan_missing:
                self._scan_for(plex, config, files)
            raise not_found(files)
        return match

    def _scan_for(self, plex: PlexTarget, config: PlexSyncConfig, files: list[str]) -> None:
        """A file Plex does not have yet: ask Plex to scan just its folder, once per folder per
        hour (the job then waits as usual: the live notification or the index refresh finds
        the new item). A folder no chosen section holds is not scanned: Plex would refuse it,
        and it is the path mappings that need a look."""
        now = self._clock.now()
        for file in files:
            folder = parent_folder(map_path(file, config.path_mappings))
            key = f"{SCAN_KEY}{path_key(folder)}"
            asked = self._storage.get_value(key)
            if isinstance(asked, int | float) and now - asked < SCAN_EVERY:
                continue
            section = self._section_for(plex, folder)
            if section is None:
                logger.info("No Plex library holds %s: not asking Plex to scan it", folder)
                continue
            self._storage.set_value(key, now)
            try:
                plex.scan_folder(section.key, folder)
            except SyncError as exc:
                logger.info("Asking Plex to scan %s failed: %s", folder, exc)
                continue
            logger.info("Asked Plex to scan %s (library %s) for a new file", folder, section.title)

    def _section_for(self, plex: PlexTarget, folder: str) -> PlexSection | None:
        key = path_key(folder)
        for section in plex.movie_sections():
            if any(key_under(key, location) for location in section.locations):
                return section
        return None


def parent_folder(path: str) -> str:
    """The folder a Plex path is in, in the path's own style."""
    cut = max(path.rfind("/"), path.rfind("\\"))
    return path[:cut] if cut > 0 else path


def execute(
    prepared: Prepared,
    *,
    config: PlexSyncConfig,
    plex: PlexTarget,
    fetch_image: Callable[[str], Screenshot],
    monotonic: Callable[[], float],
) -> Executed:
    """The job's requests, on any thread: touches nothing but `plex` and `fetch_image`."""
    payload, previous = prepared.job.payload, prepared.previous
    prev_state = previous.state if previous else None
    done = Executed(prepared.plan)
    item = prepared.full or prepared.item
    started = monotonic()
    try:
        if prepared.force or state_moved(done.plan.state, prev_state):
            wants_full = prepared.force or done.plan.needs_full_item
            if wants_full and prepared.full is None:
                done.calls += 1
                item = done.full = plex.fetch_item(item.rating_key, item.section_key)
                done.plan = plan_edit(payload, item, config, previous=prev_state)
            if done.plan.params and (prepared.force or _edit_changed(done.plan.state, prev_state)):
                done.calls += 1
                done.written_at = plex.edit(item, done.plan.params)
                done.edited = apply_params(item, done.plan.params)
            rating = plan_rating(done.plan.state, item, prev_state, config)
            if rating is not None:  # not an edit field: Plex's own call, one request
                done.calls += 1
                plex.rate(item, rating)
                rated = None if rating == NO_RATING else rating
                done.edited = replace(done.edited or item, user_rating=rated)
    except Exception as exc:  # handed to the engine thread, which decides what it means
        done.missing = item if isinstance(exc, NotFoundError) else None
        done.error = exc
        done.seconds = monotonic() - started
        return done
    try:
        done.poster = _push_poster(done, plex, item, payload, previous, config, fetch_image)
    except Exception as exc:
        done.poster_error = exc if isinstance(exc, SyncError) else _unexpected(exc)
    done.seconds = monotonic() - started
    return done


def state_moved(
    state: dict[str, Any], previous: dict[str, Any] | None, *, ignore: frozenset[str] = frozenset()
) -> bool:
    """What we want in Plex differs from what we last wrote. A field we do not manage (None),
    and a newer field wanted empty, count as absent: a state written before a field existed
    equals one that leaves it alone, so an upgrade re-sends nothing the scene does not have."""
    if previous is None:
        return True

    def managed(values: dict[str, Any]) -> dict[str, Any]:
        return {
            k: v
            for k, v in values.items()
            if v is not None
            and k not in ignore
            and not k.startswith("_")  # what we remember of artwork: not a wanted field
            and not (k in NEWER_FIELDS and v in ("", []))
        }

    return managed(state) != managed(previous)


def _edit_changed(state: dict[str, Any], previous: dict[str, Any] | None) -> bool:
    """The edit's part of the state moved (the rating goes by its own call, so a scene whose
    only change is its rating costs that one request)."""
    return state_moved(state, previous, ignore=frozenset({"userRating"}))


def _unexpected(exc: Exception) -> SyncError:
    logger.error("Unexpected error sending a poster", exc_info=exc)
    wrapped = SyncError("Unexpected error", f"{type(exc).__name__}: {exc}")
    wrapped.error_class = ErrorClass.TRANSIENT
    return wrapped


def artwork_memo(previous: Pushed | None) -> dict[str, Any]:
    """What the last push left of the background art and the poster's shape (kept in the
    record's state under private keys, which no comparison of wanted fields reads)."""
    state = previous.state if previous else {}
    return {key: state[key] for key in (ART_KEY, SHAPE_KEY) if key in state}


def _push_poster(
    done: Executed,
    plex: PlexTarget,
    item: PlexItem,
    payload: dict[str, Any],
    previous: Pushed | None,
    config: PlexSyncConfig,
    fetch_image: Callable[[str], Screenshot],
) -> tuple[str | None, str | None]:
    """The poster (in the chosen shape) and the background art, each uploaded only when what
    it is made of changed; returns the poster's (source, hash) now in Plex."""
    source = str(payload.get("screenshot") or "") or None
    old_source = previous.poster_source if previous else None
    old_hash = previous.poster_hash if previous else None
    memo = artwork_memo(previous)
    shape = config.poster_shape
    same_url = source == old_source
    poster_due = config.sync_poster and not (
        same_url and old_hash is not None and memo.get(SHAPE_KEY, "as_is") == shape
    )
    art_due = config.sync_art and not (same_url and memo.get(ART_KEY) is not None)
    if source is None or not (poster_due or art_due):
        return old_source, old_hash
    try:
        shot = fetch_image(source)
    except SyncError as exc:
        exc.service = "stash"  # a Stash problem must not count against Plex's breaker
        raise
    if not shot.data:
        return source, None  # Stash's placeholder: no cover, so Plex keeps its own poster
    settled = source if url_settled(source, shot) else None
    digest = old_hash
    if config.sync_poster:
        digest = poster_digest(shot.data, shape)
        if digest != old_hash:
            done.calls += 1
            plex.upload_poster(item, poster_bytes(shot.data, shape))
        done.artwork[SHAPE_KEY] = shape
    if config.sync_art:
        art = hashlib.sha256(shot.data).hexdigest()
        if art != memo.get(ART_KEY):
            done.calls += 1
            plex.upload_art(item, shot.data)
        done.artwork[ART_KEY] = art  # an unsettled URL is read again (the source), not resent
    return settled, digest


def url_settled(source: str, shot: Screenshot) -> bool:
    """Whether a new cover is sure to come with a new URL, so an equal URL can skip the download.

    The URL carries the scene's `updated_at` in whole seconds: a cover changed in that same
    second, after our download, keeps the URL. Only bytes served in a later second of Stash's
    clock are sure to be the URL's last cover; otherwise the next change downloads again (and
    uploads only if the bytes differ).
    """
    stamp = screenshot_stamp(source)
    return stamp is not None and shot.served_at is not None and shot.served_at > stamp
