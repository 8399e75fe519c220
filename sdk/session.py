"""The client side of the sync protocol, sans I/O.

Theory of operation
-------------------
Like the protocol objects of python-websockets and h11, a ``ClientSession``
never touches the network: the driver (``fieldsync.sdk.client``) feeds it the
frames it receives (``receive(text)``), sends what ``data_to_send()`` returns,
and reacts to the events ``receive`` reports. The session does drive the
local replica (a file, not a peer), because the protocol's guarantees are
about what is stored: a page set and its cursor are committed in one replica
transaction, and an outbox batch keeps its id across resends.

One session lives for one connection (docs/protocol.md §6):

1. ``start()`` queues ``hello`` with the stored cursor.
2. ``welcome``: the server clock offset corrects the HLC; pushing begins.
3. ``changes`` pages are buffered with a running checksum until their
   ``checkpoint``; the checksum and count are verified and the pages are
   applied with the cursor atomically. ``done`` means caught up.
4. Live ``changes`` frames (with ``seq``) are applied one by one.
5. Up to ``max_in_flight`` push batches are outstanding; an ``ack`` removes
   its batch from the outbox and records rejects per record.
6. ``evict`` drops rows, ``purge`` wipes the replica, ``error`` ends the
   session; a checksum mismatch ends it too (reconnect with the old cursor).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fieldsync.sdk.frames import parse_frame
from fieldsync.sdk.outbox import OutboxBatch
from fieldsync.sdk.records import ChangeEvent, RecordError
from fieldsync.sdk.replica import Replica
from fieldsync.sync import errors as E
from fieldsync.sync.protocol import PROTOCOL_VERSION, PageChecksum, page_payload
from fieldsync.sync.rules import Conflict

#: Protocol limits of one push frame (docs/protocol.md §5).
MAX_PUSH_CHANGES = 5000
MAX_PUSH_BYTES = 8 * 1024 * 1024


class SessionState(enum.Enum):
    """Where a session is: waiting for ``welcome``, open, or finished."""

    CONNECTING = "connecting"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Welcomed:
    """The server accepted ``hello``."""

    mode: str
    offset_ms: int


@dataclass(frozen=True, slots=True)
class Applied:
    """A page set (at a checkpoint) or a live frame was committed with its cursor."""

    count: int
    cursor: str | None
    done: bool
    live: bool
    changes: tuple[ChangeEvent, ...] = ()
    conflicts: tuple[Conflict, ...] = ()


@dataclass(frozen=True, slots=True)
class Acked:
    """A pushed batch was durably stored by the server (minus its rejects)."""

    batch_id: str
    size: int
    rejects: tuple[RecordError, ...]
    duplicate: bool


@dataclass(frozen=True, slots=True)
class Evicted:
    """Rows left this device's scope and were dropped."""

    rows: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Purged:
    """The server wiped this replica; syncing must stop."""

    reason: str


@dataclass(frozen=True, slots=True)
class Failed:
    """The session ended on an error: a server ``error`` frame or a broken page set.

    ``retryable``: reconnect with backoff; otherwise the app must act (new
    token, newer app). ``code`` is an ``FS-`` code.
    """

    code: str
    name: str
    message: str
    retryable: bool


Event = Welcomed | Applied | Acked | Evicted | Purged | Failed


@dataclass(slots=True)
class _PageSet:
    rows: list[Mapping[str, Any]] = field(default_factory=list)
    raw_rows: list[str] = field(default_factory=list)
    states: list[str] = field(default_factory=list)
    changes: list[Mapping[str, Any]] = field(default_factory=list)
    checksum: PageChecksum = field(default_factory=PageChecksum)


class ClientSession:
    """One connection's worth of the sync protocol, for one replica."""

    def __init__(
        self,
        replica: Replica,
        *,
        token: str,
        live: bool = True,
        batch_changes: int = 500,
        batch_bytes: int = 512 * 1024,
        max_in_flight: int = 2,
        now_ms: Callable[[], int] | None = None,
    ) -> None:
        self.replica = replica
        self.token = token
        self.live = live
        self.batch_changes = max(1, min(batch_changes, MAX_PUSH_CHANGES))
        self.batch_bytes = max(1024, min(batch_bytes, MAX_PUSH_BYTES))
        self.max_in_flight = max(1, max_in_flight)
        self._now_ms = now_ms or replica.now_ms
        self.state = SessionState.CONNECTING
        self.caught_up = False
        self.welcomed = False
        self.purged: str | None = None
        self.failure: Failed | None = None
        self._outgoing: list[str] = []
        self._in_flight: dict[str, OutboxBatch] = {}
        self._pages = _PageSet()

    # --- driver API ------------------------------------------------------------------

    def start(self) -> None:
        """Queue ``hello``; call once, right after the connection opens."""
        hello = {
            "type": "hello",
            "protocol": PROTOCOL_VERSION,
            "schema": self.replica.schema.version,
            "token": self.token,
            "site": self.replica.site,
            "cursor": self.replica.cursor,
            "live": self.live,
            "features": ["row-text"],
        }
        self._outgoing.append(json.dumps(hello, ensure_ascii=False, separators=(",", ":")))

    def data_to_send(self) -> list[str]:
        """Frames to send now, in order (empties the queue)."""
        out, self._outgoing = self._outgoing, []
        return out

    def local_changed(self) -> None:
        """The outbox grew: push more if the window allows."""
        self._fill_window()

    @property
    def closed(self) -> bool:
        """The session ended (error, purge, checksum mismatch or lost connection)."""
        return self.state is SessionState.CLOSED

    @property
    def in_flight(self) -> int:
        """Batches pushed and not yet acknowledged."""
        return len(self._in_flight)

    @property
    def synced(self) -> bool:
        """Caught up with the server and nothing left to push."""
        return (
            self.state is SessionState.OPEN
            and self.caught_up
            and not self._in_flight
            and self.replica.pending_count == 0
        )

    def receive(self, text: str | bytes) -> list[Event]:
        """Handle one frame from the server; returns what happened."""
        if self.state is SessionState.CLOSED:
            return []
        try:
            text = text if isinstance(text, str) else text.decode()
            head, newline, tail = text.partition("\n")  # feature row-text: row states follow, one per line
            msg, raws = parse_frame(head)
            if newline:
                raws["states"] = tail.split("\n")
            return self._dispatch(msg, raws)
        except (ValueError, KeyError, TypeError) as exc:
            return [self._fail(E.MALFORMED_MESSAGE.code, E.MALFORMED_MESSAGE.name, f"bad server frame: {exc}"[:200], True)]
        except E.FieldSyncError as exc:
            return [self._fail(exc.code.code, exc.code.name, exc.message, True)]

    def connection_lost(self) -> None:
        """The transport closed: buffered pages are dropped (they will be sent again)."""
        self.state = SessionState.CLOSED
        self._pages = _PageSet()

    # --- handlers -----------------------------------------------------------------------

    def _dispatch(self, msg: dict[str, Any], raws: dict[str, list[str]]) -> list[Event]:
        kind = msg.get("type")
        if kind == "error":
            return [
                self._fail(
                    str(msg.get("code", "FS-9001")),
                    str(msg.get("name", "error")),
                    str(msg.get("message", ""))[:500],
                    bool(msg.get("retryable", False)),
                )
            ]
        if kind == "purge":  # may come instead of welcome: a revoked device is wiped at next contact
            reason = str(msg.get("reason", "purged"))
            self.replica.apply_purge(reason)
            self.state = SessionState.CLOSED
            self.purged = reason
            return [Purged(reason)]
        if self.state is SessionState.CONNECTING:
            if kind != "welcome":
                raise ValueError(f"expected welcome, got {str(kind)[:32]!r}")
            return [self._welcome(msg)]
        if kind == "changes":
            return self._changes(msg, raws)
        if kind == "checkpoint":
            return [self._checkpoint(msg)]
        if kind == "ack":
            return self._ack(msg)
        if kind == "reset":  # our cursor predates the server's compacted log: a fresh snapshot follows
            self.replica.begin_reset()
            return []
        if kind == "evict":
            rows = tuple((str(t), str(r)) for t, r in msg["rows"])
            self.replica.apply_evict(rows)
            return [Evicted(rows)]
        return []  # unknown server messages are ignored: newer servers may add kinds

    def _welcome(self, msg: dict[str, Any]) -> Welcomed:
        offset = int(str(msg["server_time"])) - self._now_ms()
        self.replica.set_server_offset(offset)
        self.replica.repair_clock()  # before the first push: nothing stamped beyond the hub's reach goes out
        self.state = SessionState.OPEN
        self.welcomed = True
        self._fill_window()
        return Welcomed(str(msg.get("mode", "")), offset)

    def _changes(self, msg: dict[str, Any], raws: dict[str, list[str]]) -> list[Event]:
        rows = msg.get("rows") or []
        changes = msg.get("changes") or []
        states = raws.get("states", [])
        if not isinstance(rows, list) or not isinstance(changes, list):
            raise ValueError("rows and changes must be lists")
        if msg.get("states", 0) != len(states):
            raise ValueError("the frame's row states are not the number it announces")
        raw_rows = raws.get("rows", [])
        if "seq" in msg and msg["seq"] is not None:  # a live frame: applied alone, with its own cursor
            cursor = str(msg["seq"])
            events, conflicts = self.replica.apply_pages(rows, changes, cursor=cursor, raw_rows=raw_rows, states=states)
            return [Applied(len(rows) + len(states) + len(changes), cursor, True, True, tuple(events), tuple(conflicts))]
        pages = self._pages
        pages.rows.extend(rows)
        pages.raw_rows.extend(raw_rows)
        pages.states.extend(states)
        pages.changes.extend(changes)
        # The checksum covers the items' JSON texts exactly as sent (docs/protocol.md §5).
        row_texts = [*raw_rows, *states]  # a frame carries one or the other
        pages.checksum.add(page_payload(row_texts, raws.get("changes", [])), len(row_texts) + len(changes))
        return []

    def _checkpoint(self, msg: dict[str, Any]) -> Event:
        pages, self._pages = self._pages, _PageSet()
        cursor = str(msg["cursor"])
        expected = str(msg.get("checksum", ""))
        count = msg.get("count")
        if pages.checksum.hexdigest() != expected or (isinstance(count, int) and count != pages.checksum.count):
            # Discard the page set; the stored cursor still names the previous checkpoint.
            return self._fail(E.MALFORMED_MESSAGE.code, "checksum_mismatch", "page set checksum mismatch", True)
        events, conflicts = self.replica.apply_pages(
            pages.rows, pages.changes, cursor=cursor, raw_rows=pages.raw_rows, states=pages.states
        )
        done = bool(msg.get("done", False))
        if done:
            self.caught_up = True
        return Applied(pages.checksum.count, cursor, done, False, tuple(events), tuple(conflicts))

    def _ack(self, msg: dict[str, Any]) -> list[Event]:
        batch_id = str(msg["batch"])
        batch = self._in_flight.pop(batch_id, None)
        rejects = [r for r in msg.get("rejects") or [] if isinstance(r, dict)]
        errors = self.replica.complete_batch(batch_id, rejects)
        size = len(batch.changes) if batch is not None else 0
        acked = Acked(batch_id, size, tuple(errors), bool(msg.get("duplicate", False)))
        if any(r.get("code") == E.CLOCK_AHEAD.code for r in rejects):
            # The clock ran ahead since welcome: reconnect, so the next welcome's time lets the replica repair it.
            return [acked, self._fail(E.CLOCK_AHEAD.code, E.CLOCK_AHEAD.name, "the device clock is ahead of the hub's", True)]
        self._fill_window()
        return [acked]

    def _fill_window(self) -> None:
        if self.state is not SessionState.OPEN:
            return
        while len(self._in_flight) < self.max_in_flight:
            batch = self.replica.take_batch(
                max_changes=self.batch_changes, max_bytes=self.batch_bytes, exclude=self._in_flight.keys()
            )
            if batch is None:
                return
            self._in_flight[batch.batch_id] = batch
            self._outgoing.append(batch.frame())

    def _fail(self, code: str, name: str, message: str, retryable: bool) -> Failed:
        self.failure = Failed(code, name, message, retryable)
        self.state = SessionState.CLOSED
        self._pages = _PageSet()
        return self.failure


__all__ = [
    "Acked",
    "Applied",
    "ClientSession",
    "Event",
    "Evicted",
    "Failed",
    "Purged",
    "SessionState",
    "Welcomed",
]
