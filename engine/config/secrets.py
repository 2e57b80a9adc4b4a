"""Secrets between the config file and the secret store: references resolved on reading,
values moved into the store (and verified) on saving. Pure data in, data out."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from engine.config.secret_store import (
    REF_KEY,
    SECRET_FIELDS,
    KeyringLockedError,
    KeyringTimeoutError,
    SecretStore,
    SecretStoreError,
    printable,
    reference_of,
    secret_ref,
)

logger = logging.getLogger(__name__)

EXAMPLE_REF = '{"keyring": "plexsync-tray/…/plex_token"}'


class Unread(Enum):
    """Why a secret the file points to is not in the loaded config (most urgent first)."""

    LOCKED = "locked"  # unlock the keyring, then Retry
    NO_ANSWER = "no answer"  # the keyring did not answer in time
    FAILED = "failed"  # the keyring answered with an error
    UNAVAILABLE = "unavailable"  # no usable keyring now (none running, or none given)
    MISSING = "missing"  # the keyring answered: there is no such entry


KEYRING_HINTS = {
    Unread.LOCKED: "The system keyring is locked: unlock it (log in to your desktop, or use its "
    "password manager) and run the command again. Saving settings meanwhile keeps the token and "
    "API key in the keyring.",
    Unread.NO_ANSWER: "The system keyring did not answer: check that it is running and "
    "unlocked, then run the command again. Saving settings meanwhile keeps the token and API "
    "key in the keyring.",
}


def keyring_hint(problem: Unread | None) -> str | None:
    """What a command line says to do about secrets the keyring withheld, if anything."""
    return None if problem is None else KEYRING_HINTS.get(problem)


@dataclass(frozen=True)
class Resolved:
    """The config data with references replaced by values, and what could not be read."""

    data: dict[str, Any]
    problems: tuple[tuple[str, str], ...] = ()  # (field, why), never the value
    in_store: tuple[str, ...] = ()  # fields whose value came from the store
    unread: tuple[tuple[str, Unread], ...] = ()  # referenced fields left empty, and why


def resolve_secrets(
    data: dict[str, Any], store: SecretStore | None, *, check: bool = True
) -> Resolved:
    """Replace each `{"keyring": ref}` by the stored value. An unreadable one is left out (empty)
    and named in `problems`. `check=False` only checks the references' shape (no store access)."""
    data = dict(data)
    problems: list[tuple[str, str]] = []
    in_store: list[str] = []
    unread: list[tuple[str, Unread]] = []
    for field in SECRET_FIELDS:
        raw = data.get(field)
        if not isinstance(raw, dict):
            continue
        ref = reference_of(raw)
        del data[field]
        if ref is None:
            problems.append((field, f"is neither a secret nor a reference like {EXAMPLE_REF}"))
        elif check:
            problem = _read_into(data, field, ref, store)
            if problem is None:
                in_store.append(field)
            else:
                problems.append((field, problem[1]))
                unread.append((field, problem[0]))
    return Resolved(data, tuple(problems), tuple(in_store), tuple(unread))


def _read_into(
    data: dict[str, Any], field: str, ref: str, store: SecretStore | None
) -> tuple[Unread, str] | None:
    """None when the value was read into `data`, else why not (the kind, and in words)."""
    reason = "this program was not given a secret store" if store is None else store.unavailable()
    if store is None or reason is not None:
        words = f"is kept in the system keyring, which cannot be used now ({reason})"
        return Unread.UNAVAILABLE, words
    try:
        value = store.get(ref)
    except KeyringLockedError as exc:
        return Unread.LOCKED, f"is kept in the system keyring, which is locked ({exc})"
    except KeyringTimeoutError as exc:
        return Unread.NO_ANSWER, f"is kept in the system keyring, but {exc}"
    except SecretStoreError as exc:
        return Unread.FAILED, f"is kept in the system keyring, which could not be read ({exc})"
    if value is None:
        return Unread.MISSING, "is missing from the system keyring (enter it again)"
    data[field] = value
    return None


def plain_secret_in(data: dict[str, Any]) -> bool:
    """The file's own data holds a secret value (not just a reference)."""
    return any(isinstance(data.get(f), str) and data.get(f) for f in SECRET_FIELDS)


def references_in(data: dict[str, Any]) -> dict[str, str]:
    """The well-formed references the file's data holds, by field."""
    refs = {field: reference_of(data.get(field)) for field in SECRET_FIELDS}
    return {field: ref for field, ref in refs.items() if ref is not None}


def store_secrets(
    data: dict[str, Any],
    *,
    config_dir: Path,
    store: SecretStore | None,
    old_refs: dict[str, str],
    cleared: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The data to write: each secret written to the store, read back, and only then replaced by
    its reference. Without a usable store the value stays in the (0600) file.

    An empty secret whose reference the file holds is removed from the store only when it is in
    `cleared` (the user emptied it in this save); otherwise empty means "not read", not
    "cleared", and the reference is kept. A locked keyring at login leaves the loaded config
    empty, and a save that did not set the secret (Start at login, a later settings save) must
    never delete it (issue 22)."""
    data = dict(data)
    usable = store is not None and store.unavailable() is None
    for field in SECRET_FIELDS:
        value = data.get(field) or ""
        old = old_refs.get(field)
        if value:
            if store is not None and usable:
                data[field] = _store_one(store, field, value, secret_ref(config_dir, field))
        elif old and field in cleared and store is not None and usable:
            data[field] = _delete_one(store, field, old)
        elif old:
            data[field] = {REF_KEY: old}
    return data


def _store_one(store: SecretStore, field: str, value: str, ref: str) -> Any:
    try:
        store.set(ref, value)
        if store.get(ref) != value:
            raise SecretStoreError("the keyring did not give back what was written")
    except SecretStoreError as exc:
        logger.warning(
            "Could not keep %s in %s (%s); it stays in the settings file (mode 0600)",
            field,
            store.name,
            printable(str(exc)),
        )
        return value
    return {REF_KEY: ref}


def _delete_one(store: SecretStore, field: str, ref: str) -> Any:
    """The user cleared the secret: remove it from the store too, or keep the reference."""
    try:
        store.delete(ref)
    except SecretStoreError as exc:
        logger.warning("Could not remove %s from %s (%s)", field, store.name, printable(str(exc)))
        return {REF_KEY: ref}
    return None if field == "stash_api_key" else ""
