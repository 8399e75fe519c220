"""Content-addressed blob storage with resumable chunked uploads.

A blob is named by the SHA-256 of its bytes and stored at
``<root>/<aa>/<bb>/<sha256>``. An upload in progress lives in
``<root>/partial/<sha256>``; each chunk must start at the partial file's
current size (so a client that lost a reply asks for the offset and goes on
from there). When the declared total has arrived the bytes are hashed; a
match moves the file into place atomically, a mismatch discards it.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from fieldsync.sync import errors as E

_SHA = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class UploadState:
    """Where an upload stands."""

    sha256: str
    received: int
    complete: bool


class BlobStore:
    """Blobs under one directory (see module docstring)."""

    def __init__(self, root: Path, *, max_bytes: int) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        (self.root / "partial").mkdir(parents=True, exist_ok=True)

    @staticmethod
    def check_sha(sha256: str) -> str:
        if not isinstance(sha256, str) or not _SHA.match(sha256):
            raise E.error_for(E.ATTACHMENT_NOT_FOUND, "an attachment is named by a lower-case hex sha256")
        return sha256

    def path(self, sha256: str) -> Path:
        sha256 = self.check_sha(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def _partial(self, sha256: str) -> Path:
        return self.root / "partial" / self.check_sha(sha256)

    def state(self, sha256: str) -> UploadState:
        if self.path(sha256).exists():
            return UploadState(sha256, self.path(sha256).stat().st_size, True)
        partial = self._partial(sha256)
        return UploadState(sha256, partial.stat().st_size if partial.exists() else 0, False)

    def write_chunk(self, sha256: str, offset: int, total: int, chunk: bytes) -> UploadState:
        """Append ``chunk`` at ``offset`` of an upload of ``total`` bytes."""
        if total <= 0 or total > self.max_bytes:
            raise E.error_for(E.ATTACHMENT_TOO_LARGE, f"attachments hold 1 to {self.max_bytes} bytes", limit=self.max_bytes)
        with self._lock:
            current = self.state(sha256)
            if current.complete:
                return current
            if offset != current.received:
                raise E.error_for(E.CHUNK_OUT_OF_ORDER, "resume from the reported offset", offset=current.received)
            if offset + len(chunk) > total:
                raise E.error_for(E.ATTACHMENT_TOO_LARGE, "the chunk runs past the declared total")
            partial = self._partial(sha256)
            with partial.open("ab") as fh:
                fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            received = offset + len(chunk)
            if received < total:
                return UploadState(sha256, received, False)
            digest = hashlib.sha256()
            with partial.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
            if digest.hexdigest() != sha256:
                partial.unlink()
                raise E.error_for(E.HASH_MISMATCH, "the uploaded bytes do not hash to the attachment's sha256")
            final = self.path(sha256)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(partial, final)
            return UploadState(sha256, received, True)

    def read(self, sha256: str) -> bytes:
        path = self.path(sha256)
        if not path.exists():
            raise E.error_for(E.ATTACHMENT_NOT_FOUND)
        return path.read_bytes()

    def delete(self, sha256: str) -> None:
        for p in (self.path(sha256), self._partial(sha256)):
            p.unlink(missing_ok=True)


__all__ = ["BlobStore", "UploadState"]
