"""A pushed batch, from wire message to ``PushRequest``: validation, digest, scope check.

Runs on the event loop (validation and the digest are pure CPU work on the
message), except ``scope_check``, which the store runs inside its write
transaction against the row owners of that moment.

The digest identifies a batch's content for exactly-once delivery: a resend
under the same batch id must match it. It hashes each change's canonical text
(``Change.wire_text``, which the log needs anyway), so a client that
re-serialises a batch with its keys in another order still matches; a change
that does not even parse is hashed as its key-sorted JSON. Digests carry their
format (``2:``); batches stored under the first format (a SHA-256 of the
key-sorted batch, no prefix) are still recognised.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fieldsync.server.org.scopes import OWNER_FIELDS, ScopeView
from fieldsync.server.store.base import Principal, PushRequest, ScopeCheck
from fieldsync.sync import errors as E
from fieldsync.sync import protocol as P
from fieldsync.sync.change import Change, change_from_wire
from fieldsync.sync.hlc import MAX_COUNTER, MAX_DRIFT_MS, pack
from fieldsync.sync.schema import Schema

DIGEST_PREFIX = "2:"


def push_request(
    schema: Schema, principal: Principal, msg: P.Push, *, now_ms: int, scope: Callable[[], ScopeView | None] | None = None
) -> PushRequest:
    """Validate a push message into the request the store applies.

    ``scope`` returns the pusher's scope (None: unrestricted); the store calls
    it inside its write transaction, so the check sees the organisation and
    the row owners of that moment.
    """
    indexed: list[tuple[int, Change]] = []
    rejects: list[P.Reject] = []
    texts: list[str] = []
    site = principal.site
    latest = pack(now_ms + MAX_DRIFT_MS, MAX_COUNTER)
    for i, item in enumerate(msg.changes):
        try:
            ch = change_from_wire(item, schema, site=site)
        except E.ValidationError as err:
            rejects.append(P.reject_from_error(i, err, item))
            texts.append("!" + json.dumps(item, sort_keys=True))
            continue
        texts.append(ch.wire_text())  # before the clock check: a resend must hash alike whatever the time
        if ch.hlc > latest:
            rejects.append(P.reject_from_error(i, E.ValidationError(E.CLOCK_AHEAD, "hlc is too far ahead of the server's clock"), item))
            continue
        indexed.append((i, ch))
    digest = hashlib.blake2b("\n".join(texts).encode("utf-8", "surrogatepass"), digest_size=31)
    check: ScopeCheck | None = None
    if scope is not None:
        raw, scope_now = msg.changes, scope

        def check(
            changes: Sequence[tuple[int, Change]], owners: Mapping[tuple[str, str], tuple[str | None, str | None]]
        ) -> tuple[list[Change], list[P.Reject]]:
            view = scope_now()
            if view is None:
                return [ch for _, ch in changes], []
            return scope_check(view, changes, raw, owners)

    return PushRequest(
        principal,
        msg.batch,
        DIGEST_PREFIX + digest.hexdigest(),
        indexed,
        rejects,
        len(msg.changes),
        raw=msg.changes,
        check=check,
        legacy_digest=lambda: legacy_digest(msg.changes),
    )


def legacy_digest(raw_changes: Sequence[Any]) -> str:
    """The first digest format: SHA-256 of the key-sorted JSON of the whole batch."""
    text = json.dumps(raw_changes, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def scope_check(
    scope: ScopeView,
    indexed: Sequence[tuple[int, Change]],
    raw: Sequence[Any],
    owners: Mapping[tuple[str, str], tuple[str | None, str | None]],
) -> tuple[list[Change], list[P.Reject]]:
    """Keep the changes ``scope`` may write; reject the others per change (FS-3004, FS-3010).

    ``owners`` maps (table, row id) to (owner, department) for the rows that exist.
    A new row may be created when the role may write the table at all; the
    server stamps its owner. Owner and department are assigned by the server.
    """
    kept: list[Change] = []
    rejects: list[P.Reject] = []
    for i, ch in indexed:
        try:
            if ch.field in OWNER_FIELDS:
                raise E.AuthError(E.OUT_OF_SCOPE, "owner and department are assigned by the server")
            if scope.hides(ch.table, ch.field):
                raise E.AuthError(E.HIDDEN_FIELD, f"{ch.table}.{ch.field} is hidden from this role")
            existing = owners.get((ch.table, ch.row_id))
            if existing is None:
                if not scope.can_create.get(ch.table, False):
                    raise E.AuthError(E.OUT_OF_SCOPE, f"this role may not create {ch.table}")
            elif not scope.writes(ch.table, ch.row_id, *existing):
                raise E.AuthError(E.OUT_OF_SCOPE, "the row is outside this user's write scope")
            kept.append(ch)
        except E.AuthError as err:
            rejects.append(P.reject_from_error(i, err, raw[i]))
    return kept, rejects


__all__ = ["DIGEST_PREFIX", "legacy_digest", "push_request", "scope_check"]
