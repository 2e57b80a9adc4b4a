"""A queued job: one Stash scene's desired state, and the fingerprint that tells versions apart."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from typing import Any


def payload_hash(payload: dict[str, Any]) -> str:
    """A stable fingerprint of a payload (key order does not matter)."""
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Job:
    scene_id: str
    title: str
    payload: dict[str, Any]
    payload_hash: str
    attempts: int
    not_before: float
    enqueued_at: float
    first_failure_at: float | None
    last_error: str | None


def job_from_row(row: sqlite3.Row) -> Job:
    return Job(
        scene_id=row["scene_id"],
        title=row["title"],
        payload=json.loads(row["payload"]),
        payload_hash=row["payload_hash"],
        attempts=row["attempts"],
        not_before=row["not_before"],
        enqueued_at=row["enqueued_at"],
        first_failure_at=row["first_failure_at"],
        last_error=row["last_error"],
    )
