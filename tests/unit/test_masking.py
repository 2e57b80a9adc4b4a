"""One masking function for logs, errors and command output: URL credentials included."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from engine.config.file import PlexSyncConfig
from engine.errors import PermanentError, UnreachableError
from engine.masking import MASK, SecretMasker, mask_text, mask_url
from engine.store.jobs import JobStore

URL = "http://alice:s3cr3t-pw@plex.lan:32400"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (URL, f"http://{MASK}@plex.lan:32400"),
        ("https://tokenonly@h/x?y=1", f"https://{MASK}@h/x?y=1"),
        ("see http://plex.lan:32400/a@b", "see http://plex.lan:32400/a@b"),  # @ in the path
        ("mail alice@example.com", "mail alice@example.com"),
    ],
)
def test_url_credentials_are_masked(text: str, expected: str) -> None:
    assert mask_url(text) == expected


def test_mask_text_covers_urls_and_token_shapes() -> None:
    text = mask_text(f"GET {URL}/library?X-Plex-Token=abc123 failed")
    assert "s3cr3t-pw" not in text and "alice" not in text and "abc123" not in text


def test_config_show_data_masks_url_credentials() -> None:
    config = PlexSyncConfig(plex_url=URL, stash_url="http://bob:pw12345@stash:9999")
    shown = json.dumps(config.masked())
    assert "s3cr3t-pw" not in shown and "pw12345" not in shown
    assert config.masked()["plex_url"] == f"http://{MASK}@plex.lan:32400"


def test_errors_and_so_dlq_messages_never_hold_url_credentials(tmp_path: Path) -> None:
    error = UnreachableError("Plex is unreachable", f"GET {URL}/library/sections failed")
    assert "s3cr3t-pw" not in str(error) and "s3cr3t-pw" not in error.message
    store = JobStore(tmp_path / "q.sqlite3")
    try:
        store.enqueue("1", {"title": "t"})
        (job,) = store.dequeue()
        bad = PermanentError(f"Plex refused {URL}/x", "400")
        store.dead_letter(job, error_class="permanent", message=str(bad), attempts=1)
        (entry,) = store.dlq_list()
    finally:
        store.close()
    assert "s3cr3t-pw" not in entry.message and MASK in entry.message


def test_the_formatter_masks_url_credentials_in_log_lines() -> None:
    from engine.masking import MaskingFormatter

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "connecting to %s", (URL,), None)
    assert "s3cr3t-pw" not in MaskingFormatter(SecretMasker()).format(record)
