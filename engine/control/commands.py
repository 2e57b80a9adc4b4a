"""What the control channel may ask of the engine, with each command's arguments validated.

Arguments are checked by a pydantic model before anything reaches the engine, so a wrong type,
an unknown field or a value out of range gets a clear error reply and never a crash. Commands
that change state run on the engine thread through `SyncEngine.execute`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine.sync.engine import SyncEngine
from engine.sync.status import status_to_dict

logger = logging.getLogger(__name__)

COMMAND_TIMEOUT = 30.0
MAX_IDS = 10_000
SQLITE_MAX_INT = 2**63 - 1


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class NoArgs(_Args):
    pass


class PauseArgs(_Args):
    until: float | None = Field(default=None, gt=0)  # epoch seconds; None = until resume


class IdsArgs(_Args):
    ids: list[Annotated[int, Field(ge=1, le=SQLITE_MAX_INT)]] | None = Field(
        default=None, max_length=MAX_IDS
    )  # None = every entry


class ConfirmArgs(_Args):
    id: int = Field(ge=1, le=SQLITE_MAX_INT)  # a DLQ entry
    item: str | None = Field(default=None, min_length=1, max_length=64)  # a candidate's key


class PurgeArgs(_Args):
    older_than_days: float = Field(ge=0, le=100 * 365)


class SceneIdsArgs(_Args):
    ids: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        default=None, max_length=MAX_IDS
    )  # Stash scene ids; None = every finding


@dataclass(frozen=True)
class Reply:
    ok: bool
    result: Any = None
    error: str | None = None


def describe(exc: ValidationError) -> str:
    """`field: problem; ...` without echoing the input (it may be large or hostile)."""
    parts = []
    for error in exc.errors(include_input=False, include_url=False)[:5]:
        where = ".".join(str(part) for part in error["loc"]) or "arguments"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


class CommandTable:
    """Validates and runs one command for one engine."""

    def __init__(self, engine: SyncEngine) -> None:
        self._engine = engine
        store = engine.store
        self._table: dict[str, tuple[type[_Args], Callable[[Any], Any]]] = {
            "status": (NoArgs, lambda a: status_to_dict(engine.status())),
            "sync_now": (NoArgs, lambda a: self._after(engine.sync_now)),
            "retry_now": (NoArgs, lambda a: self._after(engine.retry_now)),
            "breaker_reset": (NoArgs, lambda a: self._after(engine.reset_breaker)),
            "pause": (PauseArgs, lambda a: self._after(lambda: engine.pause(a.until))),
            "resume": (NoArgs, lambda a: self._after(engine.resume)),
            "dlq_retry": (IdsArgs, lambda a: self._on_engine(lambda: store.dlq_retry(a.ids))),
            "dlq_confirm": (
                ConfirmArgs,
                lambda a: self._on_engine(lambda: store.dlq_confirm(a.id, a.item)),
            ),
            "dlq_delete": (IdsArgs, lambda a: self._on_engine(lambda: store.dlq_delete(a.ids))),
            "dlq_purge": (
                PurgeArgs,
                lambda a: self._on_engine(lambda: store.dlq_purge(a.older_than_days)),
            ),
            "check_now": (NoArgs, lambda a: self._on_engine(engine.checker.request)),
            "check_fix": (
                SceneIdsArgs,
                lambda a: self._on_engine(lambda: engine.checker.fix(a.ids)),
            ),
        }

    def _on_engine(self, work: Callable[[], Any]) -> Any:
        return self._engine.execute(work).result(COMMAND_TIMEOUT)

    def _after(self, send: Callable[[], None]) -> None:
        send()
        # Commands run in order, so this waits for `send`'s; publishing then means a `status`
        # right after the reply already shows the change.
        self._on_engine(self._engine.publish_status)

    def run(self, name: str, raw_args: dict[str, Any]) -> Reply:
        entry = self._table.get(name)
        if entry is None:
            return Reply(False, error=f"unknown command {name[:64]!r}")
        model, action = entry
        try:
            args = model.model_validate(raw_args)
        except ValidationError as exc:
            return Reply(False, error=f"bad arguments for {name}: {describe(exc)}")
        try:
            return Reply(True, result=action(args))
        except FutureTimeout:
            return Reply(False, error=f"the engine did not run {name} within {COMMAND_TIMEOUT:g} s")
        except Exception as exc:
            logger.warning("Control command %s failed: %s", name, exc)
            return Reply(False, error=f"{name} failed: {exc or type(exc).__name__}")
