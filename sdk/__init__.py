"""fieldsync.sdk: the client SDK. A local SQLite replica that works offline, and a sync client.

    from fieldsync.sdk import Replica, SyncClient

    replica = Replica.open("rep.db")
    acct = replica.insert("accounts", {"name": "华东电气", "tier": "A"})
    client = SyncClient("wss://sync.example.com/v1/sync", replica=replica, token=token)
    client.start()

See docs/sdk.md. Fakes for tests live in ``fieldsync.sdk.testing``.
"""

from fieldsync.sdk.async_client import AsyncSyncClient, SyncError
from fieldsync.sdk.client import SyncClient
from fieldsync.sdk.records import ChangeEvent, Conflict, Record, RecordError, SyncStatus, SyncSummary
from fieldsync.sdk.replica import RecordNotFound, Replica
from fieldsync.sdk.transport import Backoff
from fieldsync.sync.writes import Increment, SetOps

__all__ = [
    "AsyncSyncClient",
    "Backoff",
    "ChangeEvent",
    "Conflict",
    "Increment",
    "Record",
    "RecordError",
    "RecordNotFound",
    "Replica",
    "SetOps",
    "SyncClient",
    "SyncError",
    "SyncStatus",
    "SyncSummary",
]
