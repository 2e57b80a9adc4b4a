"""Stash's `jobsSubscribe` as a live-update stream: poll at once when a job ends.

GraphQL over a websocket on the configured Stash URL's `/graphql` (ws(s) for http(s)), with the
`ApiKey` header on the upgrade request, which Stash checks like any other request
(stashapp/stash `pkg/session/session.go`). We speak `graphql-transport-ws`, which Stash's gqlgen
transport accepts next to the older `graphql-ws` (99designs/gqlgen `graphql/handler/transport/
websocket.go`): `connection_init` → `connection_ack`, then `subscribe`; results come as `next`,
the server may `ping` (we `pong`), and `error` or `complete` ends the subscription.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from websockets.sync.client import ClientConnection

from engine.config.file import PlexSyncConfig
from engine.live.messages import (
    LiveEvent,
    MalformedMessageError,
    WsMessage,
    graphql_ws_message,
    stash_could_matter,
    stash_signal,
)
from engine.live.stream import SLICE, StreamEndedError, Target, ws_url

logger = logging.getLogger(__name__)

SUBPROTOCOL = "graphql-transport-ws"
ACK_TIMEOUT = 10.0
SUBSCRIPTION_ID = "jobs"
JOBS_SUBSCRIPTION = "subscription JobsSubscribe { jobsSubscribe { type job { id status } } }"


class StashJobs:
    name = "Stash"

    def target(self, config: PlexSyncConfig) -> Target | None:
        if not (config.live_updates and config.stash_url):
            return None
        key = config.stash_api_key.get_secret_value() if config.stash_api_key else ""
        url = ws_url(config.stash_url, "/graphql")
        headers = {"ApiKey": key} if key else {}
        return Target(url, url, headers, (SUBPROTOCOL,), config.stash_ca_bundle)

    def session(
        self,
        connection: ClientConnection,
        deliver: Callable[[LiveEvent], None],
        keep_going: Callable[[], bool],
    ) -> None:
        _send(connection, {"type": "connection_init", "payload": {}})
        try:  # a proxy's HTML page, or JSON a megabyte deep, instead of the ack
            ack = graphql_ws_message(connection.recv(timeout=ACK_TIMEOUT))
        except MalformedMessageError as exc:
            raise StreamEndedError(f"Stash did not acknowledge the subscription ({exc})") from exc
        if ack.type != "connection_ack":
            raise StreamEndedError(f"expected connection_ack, got {ack.type}")
        payload = {"operationName": "JobsSubscribe", "query": JOBS_SUBSCRIPTION, "variables": {}}
        _send(connection, {"id": SUBSCRIPTION_ID, "type": "subscribe", "payload": payload})
        while keep_going():
            try:
                raw = connection.recv(timeout=SLICE)
            except TimeoutError:
                continue
            if not stash_could_matter(raw):  # the cheap path: a job's progress, not its end
                continue
            try:
                message = graphql_ws_message(raw)
            except MalformedMessageError as exc:
                logger.debug("Skipped a Stash message: %s", exc)
                continue
            _handle(connection, message, deliver)
        _send(connection, {"id": SUBSCRIPTION_ID, "type": "complete"})


def _handle(
    connection: ClientConnection, message: WsMessage, deliver: Callable[[LiveEvent], None]
) -> None:
    if message.type == "next":
        signal = stash_signal(message.payload)
        if signal is not None:
            deliver(signal)
    elif message.type == "ping":
        _send(connection, {"type": "pong"})
    elif message.type in ("error", "complete"):
        raise StreamEndedError(f"Stash ended the subscription ({message.type})")


def _send(connection: ClientConnection, message: dict[str, object]) -> None:
    connection.send(json.dumps(message))
