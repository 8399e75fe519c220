"""fieldsync.sync: the pure sync engine (no I/O).

Hybrid logical clock, table declarations, per-field merge rules, row merge,
local-write helpers and wire messages. Server and SDK are thin drivers
around it.
"""

from fieldsync.sync.change import Change
from fieldsync.sync.crm import CRM_SCHEMA
from fieldsync.sync.errors import FieldSyncError
from fieldsync.sync.hlc import HlcClock
from fieldsync.sync.merge import MergeResult, RowState, merge_row, merge_states
from fieldsync.sync.protocol import PROTOCOL_VERSION
from fieldsync.sync.rules import Cell, Conflict, register_rule
from fieldsync.sync.schema import DeletePolicy, Field, FieldType, Schema, Table
from fieldsync.sync.writes import Increment, SetOps

__all__ = [
    "CRM_SCHEMA",
    "PROTOCOL_VERSION",
    "Cell",
    "Change",
    "Conflict",
    "DeletePolicy",
    "Field",
    "FieldSyncError",
    "FieldType",
    "HlcClock",
    "Increment",
    "MergeResult",
    "RowState",
    "Schema",
    "SetOps",
    "Table",
    "merge_row",
    "merge_states",
    "register_rule",
]
