"""The sync engine's public surface is small and deliberate: changing it must change this test.

(sdk, geo, ocr and voice pin theirs in their own suites.)
"""

from __future__ import annotations

import fieldsync.sync as engine

SURFACE = {
    "CRM_SCHEMA", "PROTOCOL_VERSION", "Cell", "Change", "Conflict", "DeletePolicy", "Field", "FieldSyncError",
    "FieldType", "HlcClock", "Increment", "MergeResult", "RowState", "Schema", "SetOps", "Table", "merge_row",
    "merge_states", "register_rule",
}


def test_sync_public_names_are_pinned() -> None:
    """fieldsync.sync exports exactly its documented names, and every one of them exists."""
    assert set(engine.__all__) == SURFACE
    assert all(hasattr(engine, name) for name in engine.__all__)
