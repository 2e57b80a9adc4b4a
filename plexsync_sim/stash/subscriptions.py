"""Stash's GraphQL subscriptions over a websocket (`/graphql`), for the Stash simulator.

Stash serves subscriptions through gqlgen's `transport.Websocket` on `/graphql`, behind the same
`ApiKey` check as HTTP (stashapp/stash `internal/api/server.go`, `gqlSrv.AddTransport(
gqlTransport.Websocket{... KeepAlivePingInterval: 10 * time.Second})`). gqlgen speaks two
subprotocols (99designs/gqlgen `graphql/handler/transport/websocket.go`, `Do`):

- `graphql-transport-ws` (connection_init, connection_ack, subscribe, next, error, complete,
  ping, pong; `websocket_graphql_transport_ws.go`);
- `graphql-ws`, the older one, also chosen when the client asks for no subprotocol
  (connection_init, connection_ack, ka, start, data, error, complete, stop,
  connection_terminate; `websocket_graphqlws.go`). Keep-alives (`ka`) go to this one only.

The subscription schema is Stash's own (`graphql/schema/types/job.graphql`, `jobsSubscribe:
JobStatusUpdate!` in `schema.graphql`); documents are validated and executed by graphql-core
against each event, as gqlgen does.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from functools import cache
from typing import Any

from graphql import GraphQLSchema, build_schema, execute_sync, parse, validate
from graphql.error import GraphQLError
from graphql.language import DocumentNode
from websockets.sync.connection import Connection

from plexsync_sim.ws_base import Hub, Upgrade

logger = logging.getLogger(__name__)

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
SUBPROTOCOLS = (LEGACY_WS, TRANSPORT_WS)  # gqlgen's order: the first both sides know wins
KEEPALIVE = 10.0  # Stash's KeepAlivePingInterval
INIT_TIMEOUT = 10.0

SUBSCRIPTION_SDL = """
scalar Time
enum JobStatus { READY RUNNING FINISHED STOPPING CANCELLED FAILED }
type Job {
  id: ID!
  status: JobStatus!
  subTasks: [String!]
  description: String!
  progress: Float
  startTime: Time
  endTime: Time
  addTime: Time!
  error: String
}
enum JobStatusUpdateType { ADD REMOVE UPDATE }
type JobStatusUpdate { type: JobStatusUpdateType! job: Job! }
type Query { findJob(input: FindJobInput!): Job }
input FindJobInput { id: ID! }
type Subscription {
  jobsSubscribe: JobStatusUpdate!
  scanCompleteSubscribe: Boolean!
}
"""


@cache
def subscription_schema() -> GraphQLSchema:
    return build_schema(SUBSCRIPTION_SDL)


def select_subprotocol(offered: Sequence[str]) -> str | None:
    """Like gorilla's Upgrader: the first of the server's list the client offered, else none."""
    return next((name for name in SUBPROTOCOLS if name in offered), None)


class _Session:
    """One client connection: its protocol flavour and its subscriptions by id."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.legacy = connection.subprotocol != TRANSPORT_WS
        self.subscriptions: dict[str, DocumentNode] = {}
        self.lock = threading.Lock()

    def send(self, kind: str, op_id: str | None = None, payload: Any = None) -> None:
        message: dict[str, Any] = {"type": kind}
        if op_id is not None:
            message["id"] = op_id
        if payload is not None:
            message["payload"] = payload
        with self.lock:
            self.connection.send(json.dumps(message))

    def deliver(self, event: object) -> None:
        with self.lock:
            subscriptions = list(self.subscriptions.items())
        for op_id, document in subscriptions:
            result = execute_sync(subscription_schema(), document, root_value=event)
            self.send("data" if self.legacy else "next", op_id, result.formatted)


class JobSubscriptions:
    """The `/graphql` websocket endpoint and the job updates pushed through it."""

    def __init__(self) -> None:
        self.hub = Hub()

    def upgrade(self) -> Upgrade:
        return Upgrade(endpoint=self._serve, select=select_subprotocol)

    def publish(self, update_type: str, job: dict[str, Any]) -> None:
        """Push one `JobStatusUpdate` to every subscription."""
        self.hub.broadcast({"jobsSubscribe": {"type": update_type, "job": job}})

    def _serve(self, connection: Connection) -> None:
        session = _Session(connection)
        if not self._init(session):
            return
        try:
            while True:
                try:
                    raw = connection.recv(timeout=KEEPALIVE if session.legacy else None)
                except TimeoutError:
                    session.send("ka")
                    continue
                if not self._on_message(session, raw):
                    return
        finally:
            self.hub.remove(session.deliver)

    @staticmethod
    def _init(session: _Session) -> bool:
        """gqlgen's `init`: the first message must be connection_init, else the socket closes."""
        try:
            message = json.loads(session.connection.recv(timeout=INIT_TIMEOUT))
        except (TimeoutError, ValueError):
            session.connection.close(1002, "decoding error")  # WebsocketCloseProtocolError
            return False
        if not isinstance(message, dict) or message.get("type") != "connection_init":
            session.connection.close(1002, "unexpected message")
            return False
        session.send("connection_ack")
        if session.legacy:
            session.send("ka")
        return True

    def _on_message(self, session: _Session, raw: str | bytes) -> bool:
        """Handle one client message; False ends the connection."""
        try:
            message = json.loads(raw)
            kind, op_id = message.get("type"), message.get("id")
        except (ValueError, AttributeError):
            session.connection.close(1002, "decoding error")
            return False
        if kind in ("subscribe", "start") and isinstance(op_id, str):
            self._subscribe(session, op_id, message.get("payload"))
        elif kind in ("complete", "stop") and isinstance(op_id, str):
            with session.lock:
                session.subscriptions.pop(op_id, None)
            if session.legacy:
                session.send("complete", op_id)
        elif kind == "ping" and not session.legacy:
            session.send("pong")
        elif kind == "connection_terminate":
            session.connection.close(1000, "terminated")
            return False
        return True

    def _subscribe(self, session: _Session, op_id: str, payload: object) -> None:
        query = payload.get("query") if isinstance(payload, dict) else None
        try:
            document = parse(query if isinstance(query, str) else "")
        except GraphQLError as exc:
            session.send("error", op_id, [exc.formatted])
            return
        problems = validate(subscription_schema(), document)
        if problems:
            session.send("error", op_id, [p.formatted for p in problems])
            return
        with session.lock:
            session.subscriptions[op_id] = document
        self.hub.add(session.deliver)  # the hub counts subscribed connections
