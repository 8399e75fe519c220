"""Attachments on the device: card photos, voice memos, visit photos.

``attach()`` keeps the bytes in a content-addressed folder next to the
replica (``<replica>.attachments/<sha256>``) and inserts an ``attachments``
row, in the replica's normal offline way: the row syncs with the records,
immediately when there is signal. The bytes travel separately: an
``Uploader`` sends every attachment whose bytes the server lacks, in
resumable chunks (``GET .../status`` tells the offset to go on from), so a
fifty-photo trade fair in a basement never holds up record sync, and a cut
mid-upload costs one chunk, not the photo.

The server processes an attachment once it has both halves (row and bytes)
and writes its suggestions (a contact for a card, tasks for a memo) as
ordinary records that sync back.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx

from fieldsync.sdk.records import Record
from fieldsync.sdk.replica import Replica

CHUNK_BYTES = 256 * 1024


def blob_dir(replica: Replica) -> Path:
    """Where a replica keeps attachment bytes."""
    return Path(str(replica.path) + ".attachments")


def attach(
    replica: Replica,
    data: bytes,
    *,
    kind: str,
    mime: str = "application/octet-stream",
    filename: str | None = None,
    record: tuple[str, str] | None = None,
    recorded_at: datetime | None = None,
    time_zone: str | None = None,
    lang: str | None = None,
    transcript: str | None = None,
) -> Record:
    """Store ``data`` as an attachment of ``kind`` (``card_photo``, ``voice_memo``, ``visit_photo``).

    Works offline. ``record``: the (table, id) it belongs to. For voice memos
    give ``recorded_at`` (aware) and the rep's IANA ``time_zone``: due dates
    are resolved against the recording, not the upload. ``transcript``: text
    recognised on the phone, used instead of the audio when present.
    """
    sha = hashlib.sha256(data).hexdigest()
    folder = blob_dir(replica)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / sha
    if not target.exists():
        tmp = folder / f".{sha}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, target)
    when = recorded_at or datetime.now(timezone.utc)
    values: dict[str, Any] = {
        "sha256": sha,
        "size": len(data),
        "mime": mime,
        "kind": kind,
        "filename": filename,
        "recorded_at": when.isoformat(),
        "time_zone": time_zone,
        "lang": lang,
        "transcript": transcript,
    }
    if record is not None:
        values["record_table"], values["record_id"] = record
    with _uploads(replica) as conn:  # the row and its upload bookkeeping: one transaction
        conn.execute("INSERT OR IGNORE INTO _uploads (sha256, size) VALUES (?, ?)", (sha, len(data)))
        return replica.insert("attachments", {k: v for k, v in values.items() if v is not None})


@contextmanager
def _uploads(replica: Replica) -> Iterator[sqlite3.Connection]:
    """The replica's own connection (encrypted replicas included); its ``_uploads`` table is part of the replica."""
    with replica._tx() as conn:
        yield conn


@dataclass(frozen=True, slots=True)
class UploadReport:
    """What one ``upload_pending`` pass did."""

    uploaded: int
    bytes_sent: int
    remaining: int


class Uploader:
    """Sends attachment bytes the server lacks, in resumable chunks.

    ``base_url``: the server's HTTP root (``https://sync.example.com``).
    ``client``: an ``httpx.Client`` (the transport seam for tests).
    """

    def __init__(
        self,
        base_url: str,
        *,
        replica: Replica,
        token: str | Callable[[], str],
        chunk_bytes: int = CHUNK_BYTES,
        client: httpx.Client | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.replica = replica
        self._token = token
        self.chunk_bytes = chunk_bytes
        self._client = client or httpx.Client(timeout=60)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _headers(self) -> dict[str, str]:
        token = self._token() if callable(self._token) else self._token
        return {"Authorization": f"Bearer {token}"}

    def pending(self) -> list[tuple[str, int]]:
        """(sha256, size) of attachments whose bytes are not on the server yet."""
        with _uploads(self.replica) as conn:
            return [(r[0], r[1]) for r in conn.execute("SELECT sha256, size FROM _uploads WHERE done = 0 ORDER BY rowid")]

    def upload_pending(self) -> UploadReport:
        """Upload everything pending; network errors stop the pass (call again later)."""
        uploaded = sent = 0
        for sha, size in self.pending():
            try:
                sent += self._upload(sha, size)
            except httpx.HTTPError:
                break
            uploaded += 1
        return UploadReport(uploaded, sent, len(self.pending()))

    def _upload(self, sha: str, size: int) -> int:
        path = blob_dir(self.replica) / sha
        status = self._client.get(f"{self.base_url}/v1/attachments/{sha}/status", headers=self._headers())
        status.raise_for_status()
        offset = int(status.json()["received"])
        sent = 0
        with path.open("rb") as fh:
            while offset < size:
                fh.seek(offset)
                chunk = fh.read(self.chunk_bytes)
                reply = self._client.put(
                    f"{self.base_url}/v1/attachments/{sha}",
                    params={"offset": offset, "total": size},
                    content=chunk,
                    headers=self._headers(),
                )
                if reply.status_code == 409:  # out of order: the server says where to resume
                    offset = int(reply.json()["error"]["detail"]["offset"])
                    continue
                reply.raise_for_status()
                body = reply.json()
                sent += len(chunk)
                offset = int(body["received"])
                if body["complete"]:
                    break
        with _uploads(self.replica) as conn:
            conn.execute("UPDATE _uploads SET done = 1 WHERE sha256 = ?", (sha,))
        return sent

    def start(self, interval: float = 5.0) -> None:
        """Upload in a background thread, retrying every ``interval`` seconds."""

        def loop() -> None:
            while not self._stop.is_set():
                self.upload_pending()
                self._stop.wait(interval)

        self._thread = threading.Thread(target=loop, name="fieldsync-uploader", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._client.close()


__all__ = ["UploadReport", "Uploader", "attach", "blob_dir"]
