"""The log file rotates in the log dir and never holds a secret, tracebacks included."""

from __future__ import annotations

import logging
import logging.handlers
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from gui.logging_setup import MASK, SecretMasker, setup_logging

TOKEN = "Zx9-plex-token-QQ"
API_KEY = "stash-api-key-777"


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    logging.captureWarnings(False)


def test_masker_hides_configured_secrets_and_token_shapes() -> None:
    masker = SecretMasker([TOKEN, API_KEY, "", "ab"])
    text = f"GET /library?X-Plex-Token={TOKEN}&x=1 with {API_KEY}"
    assert masker.mask(text) == f"GET /library?X-Plex-Token={MASK}&x=1 with {MASK}"
    assert masker.mask("X-Plex-Token: abcdef123") == f"X-Plex-Token: {MASK}"
    assert masker.mask('{"plex_token": "hunter22"}') == f'{{"plex_token": "{MASK}"}}'
    assert masker.mask("ApiKey: qwerty99") == f"ApiKey: {MASK}"
    assert masker.mask("ab is too short to be a secret") == "ab is too short to be a secret"


def test_secrets_can_change_at_runtime() -> None:
    masker = SecretMasker([TOKEN])
    masker.set_secrets(["new-token-value"])
    assert masker.mask(f"{TOKEN} new-token-value") == f"{TOKEN} {MASK}"


def test_log_file_never_holds_a_secret(tmp_path: Path, restore_root_logger: None) -> None:
    masker = SecretMasker([TOKEN, API_KEY])
    path = setup_logging(tmp_path / "logs", masker, console=False)
    assert path == tmp_path / "logs" / "plexsync-tray.log"
    log = logging.getLogger("engine.test")
    log.warning("connecting with token %s", TOKEN)
    try:
        raise RuntimeError(f"refused: {API_KEY}")
    except RuntimeError:
        log.exception("request failed for http://plex/?X-Plex-Token=%s", TOKEN)
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text()
    assert "connecting with token ********" in text
    assert "refused: ********" in text  # in the traceback too
    assert TOKEN not in text and API_KEY not in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_file_rotates(tmp_path: Path, restore_root_logger: None) -> None:
    setup_logging(tmp_path, SecretMasker(), console=False)
    handlers = [
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.handlers.RotatingFileHandler)
    ]
    assert len(handlers) == 1
    assert handlers[0].maxBytes > 0 and handlers[0].backupCount >= 3


def test_setting_up_twice_does_not_duplicate_handlers(
    tmp_path: Path, restore_root_logger: None
) -> None:
    before = len(logging.getLogger().handlers)
    setup_logging(tmp_path, SecretMasker(), console=True)
    setup_logging(tmp_path, SecretMasker(), console=True)
    assert len(logging.getLogger().handlers) == before + 2
