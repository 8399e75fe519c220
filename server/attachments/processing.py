"""Turning synced attachments into suggestions: card photos -> contacts, voice memos -> tasks.

Theory of operation
-------------------
An attachment has two halves that reach the server independently: its
``attachments`` row (metadata: kind, owner, recording time and zone, a phone
transcript), which syncs like any record, and its bytes, uploaded in
resumable chunks when signal allows. Whichever half arrives second makes the
attachment *ready*; the hub's commit listener and the upload endpoint both
enqueue the attachment id, and one worker thread processes the queue.

Processing is idempotent: the rows it writes have ids derived from the
attachment id (uuid5), and an attachment whose ``status`` is ``processed`` or
``failed`` is skipped, so a retry after a crash rewrites the same rows rather
than creating duplicates. Results are written through the hub as server
changes, so they sync back to the rep's devices like any other edit.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select

from fieldsync.server.account_book import DirectoryCache
from fieldsync.server.attachments.blobs import BlobStore
from fieldsync.server.settings import Settings
from fieldsync.server.store.base import Principal
from fieldsync.sync import errors as E
from fieldsync.sync.merge import loads_state

log = logging.getLogger("fieldsync.attachments")
_NS = uuid.UUID("8d6f4f3e-3c5b-4a65-9a57-7f2e1d0c9b31")


def derived_id(attachment_id: str, what: str) -> str:
    """A stable row id for something derived from an attachment."""
    return str(uuid.uuid5(_NS, f"{attachment_id}:{what}"))


class Processor:
    """Processes ready attachments on one worker thread."""

    def __init__(self, hub: Any, blobs: BlobStore, settings: Settings, loop: asyncio.AbstractEventLoop) -> None:
        self.hub = hub
        self.store = hub.store
        self.blobs = blobs
        self.settings = settings
        self.loop = loop
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="fieldsync-attachments", daemon=True)
        self.directories = DirectoryCache(hub.store)
        self.processed = 0

    def start(self) -> None:
        self._thread.start()
        self._requeue_pending()

    def stop(self) -> None:
        self._queue.put(None)

    def enqueue(self, attachment_id: str) -> None:
        self._queue.put(attachment_id)

    def enqueue_sha(self, sha256: str) -> None:
        t = self.store.rows["attachments"]
        with self.store.engine.connect() as conn:
            for (row_id,) in conn.execute(select(t.c.id).where(t.c.sha256 == sha256)):
                self.enqueue(row_id)

    def on_commit(self, entries: list[Any]) -> None:
        """Hub listener: attachments rows that changed may have become ready."""
        for row_id in {e.row_id for e in entries if e.table == "attachments" and e.site != "server"}:
            self.enqueue(row_id)

    def _requeue_pending(self) -> None:
        t = self.store.rows["attachments"]
        with self.store.engine.connect() as conn:
            for (row_id,) in conn.execute(select(t.c.id).where((t.c.status.is_(None)) | (t.c.status == "pending"))):
                self.enqueue(row_id)

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            try:
                self.process(item)
            except Exception:  # one bad attachment must not stop the worker; it is logged
                log.exception("processing attachment %s failed", item)

    # --- one attachment -------------------------------------------------------

    def _row(self, table: str, row_id: str) -> dict[str, Any] | None:
        raw = self.store.row_states(table, [row_id]).get(row_id)
        if raw is None:
            return None
        state = loads_state(raw)
        return {"id": row_id, "_exists": state.exists, **state.values()}

    def process(self, attachment_id: str) -> str | None:
        """Process one attachment if it is ready; returns its new status or None."""
        att = self._row("attachments", attachment_id)
        if att is None or not att["_exists"] or att.get("status") in ("processed", "failed"):
            return None
        kind = att.get("kind")
        sha = att.get("sha256")
        has_blob = bool(sha) and self.blobs.state(sha).complete
        try:
            if kind == "card_photo" and has_blob:
                result = self._card(att, self.blobs.read(sha))
            elif kind == "voice_memo" and (att.get("transcript") or has_blob):
                result = self._memo(att, self.blobs.read(sha) if has_blob and not att.get("transcript") else None)
            elif kind not in ("card_photo", "voice_memo") and has_blob:
                result = {"stored": True}
            else:
                return None  # not ready yet: the other half will enqueue it again
            status = "processed"
        except E.FieldSyncError as err:
            result, status = {"error": err.to_wire()}, "failed"
        self._write("attachments", attachment_id, {"status": status, "result": result})
        self.processed += 1
        return status

    def _write(self, table: str, row_id: str, values: dict[str, Any]) -> None:
        fn: Callable[[], Any] = lambda: self.store.server_write(table, row_id, values)
        asyncio.run_coroutine_threadsafe(self.hub.write(fn), self.loop).result(timeout=60)

    def _owned(self, table: str, owner: str | None) -> list[dict[str, Any]]:
        t = self.store.rows[table]
        with self.store.engine.connect() as conn:
            rows = conn.execute(select(t).where(t.c.owner_id == owner, t.c._cl % 2 == 1)).mappings().all()
        return [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]

    def _card(self, att: dict[str, Any], image: bytes) -> dict[str, Any]:
        from fieldsync.ocr import card_to_contact, find_duplicates, scan_card
        from fieldsync.ocr.contacts import company_key

        card = scan_card(image, engine=self.settings.ocr_engine, region=self.settings.default_phone_region)
        owner, dept = att.get("owner_id"), att.get("department_id")
        accounts = self._owned("accounts", owner)
        names = {a["id"]: a.get("name") for a in accounts}
        contacts = [{**c, "account_name": names.get(c.get("account_id"))} for c in self._owned("contacts", owner)]
        suggestion = card_to_contact(card)
        company = suggestion.pop("account_name", None)
        account_id = None
        if company:
            key = company_key(company)
            account_id = next((a["id"] for a in accounts if key and company_key(a.get("name")) == key), None)
            if account_id is None:
                account_id = derived_id(att["id"], "account")
                self._write("accounts", account_id, {"name": company, "address": card.address, "website": card.website, "owner_id": owner, "department_id": dept})
        duplicates = [
            {"contact_id": d.contact_id, "score": d.score, "reasons": list(d.reasons)}
            for d in find_duplicates(card, [c for c in contacts if c.get("status") != "suggested"], region=self.settings.default_phone_region)
        ]
        contact_id = derived_id(att["id"], "contact")
        values = {
            **{k: v for k, v in suggestion.items() if v not in (None, [], "")},
            "account_id": account_id,
            "status": "suggested",
            "card_attachment_id": att["id"],
            "duplicates": duplicates,
            "owner_id": owner,
            "department_id": dept,
        }
        self._write("contacts", contact_id, values)
        return {"card": card.to_json(), "contact_id": contact_id, "account_id": account_id, "duplicates": duplicates}

    def _memo(self, att: dict[str, Any], audio: bytes | None) -> dict[str, Any]:
        from fieldsync.voice import memo_to_task_rows
        from fieldsync.voice.memo import process_memo

        owner, dept = att.get("owner_id"), att.get("department_id")
        # Customers are the accounts the memo's author may read, as for POST /v1/memos (server/account_book.py).
        directory = self.directories.directory_for(self.hub.scope_for(Principal(owner or "", dept, "attachment-worker")))
        recorded = att.get("recorded_at")
        memo = process_memo(
            recorded_at=datetime.fromisoformat(recorded.replace("Z", "+00:00")) if recorded else datetime.now(timezone.utc),
            text=att.get("transcript"),
            audio=audio,
            time_zone=att.get("time_zone"),
            lang=att.get("lang") or "auto",
            accounts=directory,
            max_seconds=self.settings.memo_max_seconds,
        )
        rows = memo_to_task_rows(memo.tasks, memo_id=att["id"], assignee_id=owner)
        task_ids = []
        for row in rows:
            row_id = row.pop("id")
            task_ids.append(row_id)
            if row.get("amount") is not None:
                row["amount"] = float(row["amount"])
            self._write("tasks", row_id, {**row, "memo_attachment_id": att["id"], "owner_id": owner, "department_id": dept})
        return {"transcript": memo.text, "task_ids": task_ids}


__all__ = ["Processor", "derived_id"]
