"""`JobStore.batch`: a job's writes in one transaction, kept or dropped together."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fake_clock import FakeClock

from engine.store.jobs import JobStore


def open_store(tmp_path: Path, clock: FakeClock) -> JobStore:
    return JobStore(tmp_path / "plexsync.sqlite3", clock=clock)


def test_writes_in_a_batch_commit_once_and_are_seen_by_another_connection(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    store, reader = open_store(tmp_path, fake_clock), None
    try:
        with store.batch():
            store.set_value("a", 1)
            store.set_value("b", 2)
            reader = JobStore(store.path, clock=fake_clock, recover=False)
            assert reader.get_value("a") is None  # not committed yet
        assert (reader.get_value("a"), reader.get_value("b")) == (1, 2)
    finally:
        store.close()
        if reader is not None:
            reader.close()


def test_an_error_that_is_not_the_databases_keeps_what_was_written(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    store = open_store(tmp_path, fake_clock)
    try:
        with pytest.raises(ValueError), store.batch():
            store.set_value("edited", True)  # e.g. the PUT worked, then the poster failed
            raise ValueError("poster")
        assert store.get_value("edited") is True
        with store.batch():  # and the store is usable afterwards
            store.set_value("next", 1)
        assert store.get_value("next") == 1
    finally:
        store.close()


def test_a_storage_error_rolls_the_whole_batch_back(tmp_path: Path, fake_clock: FakeClock) -> None:
    store = open_store(tmp_path, fake_clock)
    try:
        with pytest.raises(sqlite3.OperationalError), store.batch():
            store.set_value("half", 1)
            with store.batch():  # a nested batch joins the outer one
                store.set_value("written", 2)
            raise sqlite3.OperationalError("disk I/O error")
        assert store.get_value("half") is None and store.get_value("written") is None
    finally:
        store.close()
