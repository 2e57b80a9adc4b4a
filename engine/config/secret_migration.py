"""At start: secrets still in the config file move into the system keyring, or we say why not."""

from __future__ import annotations

import logging
from pathlib import Path

from engine.config.file import load_config_report, read_config_data, save_config
from engine.config.secret_store import FILE_STORAGE, SecretStore, printable
from engine.config.secrets import plain_secret_in, references_in

logger = logging.getLogger(__name__)


def move_secrets_to_store(path: Path, store: SecretStore) -> str:
    """Move the file's plain token and API key into `store` (written, read back, and only then
    removed from the file, which is replaced atomically). Returns, and logs once, where the
    secrets are kept now. A file with invalid settings is left alone for the user to fix."""
    reason = store.unavailable()
    if reason is not None:
        reason = printable(reason)  # it may come from a file (keyring_memo): never raw in a log
        logger.warning(
            "No usable system keyring (%s): the Plex token and Stash API key are kept in %s",
            reason,
            FILE_STORAGE,
        )
        return f"{FILE_STORAGE}: no usable system keyring ({reason})"
    data = read_config_data(path)
    if not plain_secret_in(data):
        return store.name
    loaded = load_config_report(path, secrets=store)
    if loaded.problem is not None or loaded.ignored_keys:
        logger.info("The settings file has problems; its secrets move to the keyring once saved")
        return FILE_STORAGE
    save_config(loaded.config, path, secrets=store)
    if plain_secret_in(read_config_data(path)):
        return FILE_STORAGE  # save_config logged why
    moved = ", ".join(sorted(references_in(read_config_data(path))))
    logger.info("Moved %s from the settings file into %s", moved, store.name)
    return store.name
