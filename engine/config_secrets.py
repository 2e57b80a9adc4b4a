"""Secrets between the config file and the secret store: references resolved on reading,
values moved into the store (and verified) on saving. Pure data in, data out."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.secret_store import (
    REF_KEY,
    SECRET_FIELDS,
    SecretStore,
    SecretStoreError,
    reference_of,
    secret_ref,
)

logger = logging.getLogger(__name__)

EXAMPLE_REF = '{"keyring": "plexsync-tray/…/plex_token"}'


@dataclass(frozen=True)
class Resolved:
    """The config data with references replaced by values, and what could not be read."""

    data: dict[str, Any]
    problems: tuple[tuple[str, str], ...] = ()  # (field, why), never the value
    in_store: tuple[str, ...] = ()  # fields whose value came from the store


def resolve_secrets(
    data: dict[str, Any], store: SecretStore | None, *, check: bool = True
) -> Resolved:
    """Replace each `{"keyring": ref}` by the stored value. An unreadable one is left out (empty)
    and named in `problems`. `check=False` only checks the references' shape (no store access)."""
    data = dict(data)
    problems: list[tuple[str, str]] = []
    in_store: list[str] = []
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
                problems.append((field, problem))
    return Resolved(data, tuple(problems), tuple(in_store))


def _read_into(data: dict[str, Any], field: str, ref: str, store: SecretStore | None) -> str | None:
    reason = "this program was not given a secret store" if store is None else store.unavailable()
    if store is None or reason is not None:
        return f"is kept in the system keyring, which cannot be used now ({reason})"
    try:
        value = store.get(ref)
    except SecretStoreError as exc:
        return f"is kept in the system keyring, which could not be read ({exc})"
    if value is None:
        return "is missing from the system keyring (enter it again)"
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
    unread: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The data to write: each secret written to the store, read back, and only then replaced by
    its reference. Without a usable store the value stays in the (0600) file; a reference the
    store cannot reach now is kept rather than lost, and so is one that could not be read when
    the settings were loaded (`unread`): empty then means "unknown", not "cleared"."""
    data = dict(data)
    usable = store is not None and store.unavailable() is None
    for field in SECRET_FIELDS:
        value = data.get(field) or ""
        old = old_refs.get(field)
        if store is None or not usable or field in unread:
            if not value and old:
                data[field] = {REF_KEY: old}
        elif value:
            data[field] = _store_one(store, field, value, secret_ref(config_dir, field))
        elif old:
            data[field] = _delete_one(store, field, old)
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
            exc,
        )
        return value
    return {REF_KEY: ref}


def _delete_one(store: SecretStore, field: str, ref: str) -> Any:
    """The user cleared the secret: remove it from the store too, or keep the reference."""
    try:
        store.delete(ref)
    except SecretStoreError as exc:
        logger.warning("Could not remove %s from %s (%s)", field, store.name, exc)
        return {REF_KEY: ref}
    return None if field == "stash_api_key" else ""
