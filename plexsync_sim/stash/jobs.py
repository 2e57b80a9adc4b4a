"""Simulated Stash jobs (Identify, Scan, Auto Tag) that edit scenes and report their progress.

Stash's job manager (stashapp/stash `pkg/job/manager.go`) tells subscribers: ADD when a job is
queued (READY), UPDATE when it starts (RUNNING) and as it progresses, and REMOVE when it is
done, carrying its final status (FINISHED, FAILED or CANCELLED) and `endTime`: a finished job
is never sent as an UPDATE (`notifyJobUpdate` skips FINISHED and CANCELLED; `removeJob` runs
after the job's goroutine ends). Descriptions are Stash's own ("Identifying...", "Scanning...",
"Auto-tagging...": `internal/api/resolver_mutation_metadata.go`, `internal/manager/
manager_tasks.go`). Jobs run one at a time, like Stash's single dispatcher.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

from plexsync_sim.messages import Request, Response, SimError, json_response
from plexsync_sim.stash.scenes import format_time
from plexsync_sim.stash.subscriptions import JobSubscriptions

DESCRIPTIONS = {"identify": "Identifying...", "scan": "Scanning...", "auto_tag": "Auto-tagging..."}


class SimJobs:
    """Runs jobs on a thread each, one at a time; `run` returns the thread to join if wanted."""

    def __init__(
        self,
        subscriptions: JobSubscriptions,
        edit_scene: Callable[..., object],
        *,
        now: Callable[[], float],
        stamp: Callable[[float], str],
    ) -> None:
        self._subscriptions = subscriptions
        self._edit_scene = edit_scene
        self._now = now
        self._stamp = stamp
        self._ids = itertools.count(1)
        self._dispatch = threading.Lock()

    def run(
        self,
        kind: str,
        scene_ids: list[int],
        fields: dict[str, Any],
        *,
        duration: float = 0.0,
        fail: bool = False,
    ) -> threading.Thread:
        """Queue a job that applies `fields` to each scene over `duration` seconds."""
        return self.queue(kind, scene_ids, fields, duration=duration, fail=fail)[1]

    def queue(
        self,
        kind: str,
        scene_ids: list[int],
        fields: dict[str, Any],
        *,
        duration: float = 0.0,
        fail: bool = False,
    ) -> tuple[str, threading.Thread]:
        """Like `run`; answers the job's id too."""
        if kind not in DESCRIPTIONS:
            raise ValueError(f"kind must be one of {sorted(DESCRIPTIONS)}")
        job: dict[str, Any] = {
            "id": str(next(self._ids)),
            "status": "READY",
            "subTasks": None,
            "description": DESCRIPTIONS[kind],
            "progress": None,
            "startTime": None,
            "endTime": None,
            "addTime": self._stamp(self._now()),
            "error": None,
        }
        self._subscriptions.publish("ADD", dict(job))
        thread = threading.Thread(
            target=self._execute,
            args=(job, scene_ids, fields, duration, fail),
            name=f"stash-sim-job-{job['id']}",
            daemon=True,
        )
        thread.start()
        return str(job["id"]), thread

    def _execute(
        self,
        job: dict[str, Any],
        scene_ids: list[int],
        fields: dict[str, Any],
        duration: float,
        fail: bool,
    ) -> None:
        with self._dispatch:
            job.update(status="RUNNING", startTime=self._stamp(self._now()), progress=0.0)
            self._subscriptions.publish("UPDATE", dict(job))
            step = duration / max(1, len(scene_ids))
            if not scene_ids and duration:
                time.sleep(duration)  # a job with nothing to edit still takes its time
            for done, scene_id in enumerate(scene_ids, start=1):
                if step:
                    time.sleep(step)
                self._edit_scene(scene_id, **fields)
                job["progress"] = done / len(scene_ids)
                self._subscriptions.publish("UPDATE", dict(job))
            job.update(status="FAILED" if fail else "FINISHED", endTime=self._stamp(self._now()))
            if fail:
                job["error"] = "simulated failure"
            self._subscriptions.publish("REMOVE", dict(job))


def stash_time(tz: Any) -> Callable[[float], str]:
    """Job times in Stash's RFC 3339 form."""
    return lambda epoch: format_time(int(epoch), tz)


def job_control(jobs: SimJobs, request: Request) -> Response:
    """`POST /__sim__/jobs {"kind", "scenes", "fields", "duration", "fail"}`: start a job."""
    body = request.json()
    kind, scenes, fields = body.get("kind"), body.get("scenes", []), body.get("fields", {})
    duration = body.get("duration", 0.0)
    valid = (
        isinstance(kind, str)
        and isinstance(scenes, list)
        and all(isinstance(s, int | str) and str(s).isdigit() for s in scenes)
        and isinstance(fields, dict)
        and isinstance(duration, int | float)
        and 0 <= duration <= 600
    )
    if not valid:
        raise SimError(
            400, 'body must be {"kind", "scenes": [ids], "fields": {...}, "duration": seconds}'
        )
    try:
        jobs.run(
            str(kind),
            [int(s) for s in scenes],
            fields,
            duration=float(duration),
            fail=bool(body.get("fail")),
        )
    except ValueError as exc:
        raise SimError(400, str(exc)) from exc
    return json_response({"started": kind})
