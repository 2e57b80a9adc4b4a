"""Shaping data in a real Stash through its own GraphQL, as a user's clicks would."""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

import requests

TIMEOUT = (5.0, 60.0)
PREFIX = "PSR"


class RealStash:
    def __init__(self, url: str, api_key: str) -> None:
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.run = uuid.uuid4().hex[:6]
        self._session = requests.Session()
        self._session.headers["ApiKey"] = api_key
        self._made: list[tuple[str, str]] = []  # (kind, id), to remove afterwards

    @classmethod
    def from_environment(cls) -> RealStash:
        url = os.environ["PLEXSYNC_REAL_STASH_URL"]
        key = os.environ.get("PLEXSYNC_REAL_STASH_API_KEY", "")
        if not key:
            key = _key_from_login(
                url,
                os.environ["PLEXSYNC_REAL_STASH_USERNAME"],
                os.environ["PLEXSYNC_REAL_STASH_PASSWORD"],
            )
        return cls(url, key)

    def close(self) -> None:
        self._session.close()

    def gql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self._session.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables or {}},
            timeout=TIMEOUT,
        )
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise AssertionError(f"Stash refused {query[:80]!r}: {body['errors']}")
        return dict(body["data"])

    def name(self, label: str) -> str:
        return f"{PREFIX} {self.run} {label}"

    def create(self, kind: str, label: str) -> str:
        data = self.gql(
            f"mutation ($i: {kind.title()}CreateInput!) {{ {kind}Create(input: $i) {{ id }} }}",
            {"i": {"name": self.name(label)}},
        )
        made = str(data[f"{kind}Create"]["id"])
        self._made.append((kind, made))
        return made

    def scanned_scenes(self) -> list[dict[str, Any]]:
        """Every scene with a file, by id."""
        data = self.gql(
            "query ($f: FindFilterType, $s: SceneFilterType) { findScenes(filter: $f,"
            " scene_filter: $s) { scenes { id title files { path } } } }",
            {
                "f": {"per_page": -1, "sort": "id", "direction": "ASC"},
                "s": {"file_count": {"value": 0, "modifier": "GREATER_THAN"}},
            },
        )
        return list(data["findScenes"]["scenes"])

    def update_scene(self, scene_id: str, **fields: Any) -> None:
        self.gql(
            "mutation ($i: SceneUpdateInput!) { sceneUpdate(input: $i) { id } }",
            {"i": {"id": scene_id, **fields}},
        )

    def bulk_update(self, ids: list[str], **fields: Any) -> None:
        self.gql(
            "mutation ($i: BulkSceneUpdateInput!) { bulkSceneUpdate(input: $i) { id } }",
            {"i": {"ids": ids, **fields}},
        )

    def rename(self, kind: str, object_id: str, label: str) -> None:
        self.gql(
            f"mutation ($i: {kind.title()}UpdateInput!) {{ {kind}Update(input: $i) {{ id }} }}",
            {"i": {"id": object_id, "name": self.name(label)}},
        )

    def merge_tags(self, sources: list[str], destination: str) -> None:
        self.gql(
            "mutation ($i: TagsMergeInput!) { tagsMerge(input: $i) { id } }",
            {"i": {"source": sources, "destination": destination}},
        )

    def destroy(self, kind: str, object_id: str) -> None:
        self.gql(
            f"mutation ($i: {kind.title()}DestroyInput!) {{ {kind}Destroy(input: $i) }}",
            {"i": {"id": object_id}},
        )

    def scan(self) -> str:
        """Start a scan of the whole library; returns its job id."""
        return str(self.gql("mutation { metadataScan(input: {}) }")["metadataScan"])

    def wait_for_jobs(self, limit: float = 120.0) -> None:
        end = time.monotonic() + limit
        while time.monotonic() < end:
            if not self.gql("{ jobQueue { id } }")["jobQueue"]:
                return
            time.sleep(0.2)
        raise AssertionError("Stash's jobs did not finish")

    def remove_made(self) -> None:
        """Destroy what the tests made (scenes keep their files and edits)."""
        for kind, made in reversed(self._made):
            try:
                self.gql(
                    f"mutation ($i: {kind.title()}DestroyInput!) {{ {kind}Destroy(input: $i) }}",
                    {"i": {"id": made}},
                )
            except AssertionError:
                pass  # merged or destroyed by the test itself


def _key_from_login(url: str, username: str, password: str) -> str:
    """A Stash with credentials but no key yet: sign in as the browser does, make a key."""
    with requests.Session() as session:
        session.post(
            f"{url.rstrip('/')}/login",
            data={"username": username, "password": password},
            timeout=TIMEOUT,
            allow_redirects=False,
        ).raise_for_status()
        body = session.post(
            f"{url.rstrip('/')}/graphql",
            json={"query": "mutation { generateAPIKey(input: {}) }"},
            timeout=TIMEOUT,
        ).json()
    return str(body["data"]["generateAPIKey"])
