"""Server storage: the change log and row states behind one ``ChangeStore`` interface."""

from fieldsync.server.store.base import BatchOutcome, ChangeStore, LogEntry
from fieldsync.server.store.sql import SqlChangeStore, open_store

__all__ = ["BatchOutcome", "ChangeStore", "LogEntry", "SqlChangeStore", "open_store"]
