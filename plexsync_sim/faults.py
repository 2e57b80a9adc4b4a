"""Fault rules and request counters shared by the simulators (thread-safe)."""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

from plexsync_sim.messages import SimError

MAX_FAULT_DELAY = 600.0


@dataclass
class FaultRule:
    """Matching requests (regex searched in ``'METHOD /path'``) fail ``remaining`` more times."""

    match: re.Pattern[str]
    status: int | None
    remaining: int | None
    delay: float
    drop: bool
    retry_after: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "match": self.match.pattern,
            "status": self.status,
            "count": self.remaining,
            "delay": self.delay,
            "drop": self.drop,
            "retry_after": self.retry_after,
        }


class FaultSet:
    """Thread-safe list of fault rules; the first matching rule applies to a request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def add(
        self,
        match: str,
        status: int | None = 503,
        count: int | None = None,
        delay: float = 0.0,
        drop: bool = False,
        retry_after: float | None = None,
    ) -> FaultRule:
        try:
            pattern = re.compile(match)
        except re.error as exc:
            raise SimError(400, f"invalid match regex: {exc}") from exc
        if status is not None and not 100 <= int(status) <= 599:
            raise SimError(400, "status must be 100..599 or null")
        if count is not None and int(count) < 1:
            raise SimError(400, "count must be >= 1 or null")
        if not 0.0 <= float(delay) <= MAX_FAULT_DELAY:
            raise SimError(400, f"delay must be 0..{MAX_FAULT_DELAY:g} seconds")
        if retry_after is not None and float(retry_after) < 0:
            raise SimError(400, "retry_after must be >= 0 or null")
        rule = FaultRule(
            pattern,
            None if status is None else int(status),
            None if count is None else int(count),
            float(delay),
            bool(drop),
            None if retry_after is None else float(retry_after),
        )
        with self._lock:
            self._rules.append(rule)
        return rule

    def add_from_json(self, payload: Any) -> FaultRule:
        if not isinstance(payload, dict) or not isinstance(payload.get("match", ".*"), str):
            raise SimError(400, 'fault body must be a JSON object with a string "match"')
        known = {"match", "status", "count", "delay", "drop", "retry_after"}
        unknown = set(payload) - known
        if unknown:
            raise SimError(400, f"unknown fault keys: {sorted(unknown)}")
        try:
            return self.add(
                payload.get("match", ".*"),
                status=payload.get("status", 503),
                count=payload.get("count"),
                delay=payload.get("delay") or 0.0,
                drop=bool(payload.get("drop", False)),
                retry_after=payload.get("retry_after"),
            )
        except (TypeError, ValueError) as exc:
            raise SimError(400, f"invalid fault: {exc}") from exc

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def take(self, line: str) -> FaultRule | None:
        with self._lock:
            for rule in self._rules:
                if rule.match.search(line):
                    if rule.remaining is not None:
                        rule.remaining -= 1
                        if rule.remaining <= 0:
                            self._rules.remove(rule)
                    return rule
        return None

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.as_dict() for rule in self._rules]


class RequestStats:
    """Counters of the requests served, by method and by route template.

    ``connections`` counts TCP connections accepted (control requests included), which shows
    whether a client reuses keep-alive connections.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._total = 0
        self._connections = 0
        self._by_method: Counter[str] = Counter()
        self._by_route: Counter[str] = Counter()

    def connection(self) -> None:
        with self._lock:
            self._connections += 1

    def record(self, method: str, route: str) -> None:
        with self._lock:
            self._total += 1
            self._by_method[method] += 1
            self._by_route[route] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self._total,
                "by_method": dict(self._by_method),
                "by_route": dict(self._by_route),
                "connections": self._connections,
            }

    def reset(self) -> None:
        with self._lock:
            self._total = 0
            self._connections = 0
            self._by_method.clear()
            self._by_route.clear()
