"""When an unchanged screenshot URL may skip the download: only after a later second."""

from __future__ import annotations

import pytest

from engine.push.pusher import url_settled
from engine.stash.scene import Screenshot, screenshot_stamp

URL = "http://stash:9999/scene/7/screenshot?t=1700000000"


@pytest.mark.parametrize(
    ("url", "stamp"),
    [
        (URL, 1700000000),
        ("http://stash:9999/scene/7/screenshot?1700000000", 1700000000),  # real Stash's form
        ("http://stash:9999/scene/7/screenshot", None),
        ("http://stash:9999/scene/7/screenshot?t=soon", None),
    ],
)
def test_the_stamp_is_read_from_either_url_form(url: str, stamp: int | None) -> None:
    assert screenshot_stamp(url) == stamp


@pytest.mark.parametrize(
    ("served_at", "settled"),
    [
        (1700000001, True),  # served a second later: a newer cover gets a newer URL
        (1700000000, False),  # the same second: a cover changed after us keeps this URL
        (None, False),  # no Date: nothing is known
    ],
)
def test_a_url_is_trusted_only_when_served_after_its_second(
    served_at: int | None, settled: bool
) -> None:
    assert url_settled(URL, Screenshot(b"png", served_at)) is settled


def test_a_url_without_a_stamp_is_never_trusted() -> None:
    assert not url_settled("http://stash/scene/7/screenshot", Screenshot(b"png", 1800000000))
