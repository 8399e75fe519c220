"""The CRM tables FieldSync syncs, declared once.

Server store and SDK replica both derive their tables from ``CRM_SCHEMA``.
Rule choices (why each field merges the way it does) are explained in
``docs/conflicts.md``; in short: plain facts are last-writer-wins; who owns a
row is the server's call; check-in evidence is first-write-wins so nobody can
rewrite it; notes are collaborative text; tags are an add-wins set; visit
counts are counters; "last visited" only moves forward.
"""

from __future__ import annotations

from fieldsync.sync.schema import DeletePolicy, Field, FieldType, Schema, Table, scope_fields

T, I, R, B, TS, D, U, J = (
    FieldType.TEXT,
    FieldType.INTEGER,
    FieldType.REAL,
    FieldType.BOOLEAN,
    FieldType.TIMESTAMP,
    FieldType.DATE,
    FieldType.UUID,
    FieldType.JSON,
)


def _notes() -> Field:
    return Field("notes", T, rule="text", max_bytes=64 * 1024, doc="collaborative free text (Yjs)")


def _location(prefix: str = "", rule: str = "lww") -> tuple[Field, ...]:
    return (
        Field(f"{prefix}lat", R, rule=rule),
        Field(f"{prefix}lon", R, rule=rule),
        Field(f"{prefix}datum", T, rule=rule, max_bytes=8, doc="wgs84 | gcj02 | bd09"),
    )


ACCOUNTS = Table(
    "accounts",
    (
        Field("name", T, doc="customer company name"),
        Field("short_name", T),
        Field("industry", T),
        Field("tier", T, max_bytes=16),
        Field("phone", T, max_bytes=64),
        Field("website", T),
        Field("address", T),
        *_location(),
        Field("checkin_radius_m", R, doc="overrides the company check-in radius"),
        Field("opening_hours", J),
        Field("tags", J, rule="add_wins_set"),
        Field("visit_count", I, rule="counter"),
        Field("last_visit_at", TS, rule="max"),
        _notes(),
        *scope_fields(),
    ),
    DeletePolicy.UPDATE_WINS,
    doc="customer companies",
)

CONTACTS = Table(
    "contacts",
    (
        Field("account_id", U),
        Field("name", T),
        Field("title", T),
        Field("department", T),
        Field("phones", J, doc='[{"number": "+86...", "kind": "mobile|office|fax"}]'),
        Field("emails", J),
        Field("wechat", T, max_bytes=128),
        Field("qq", T, max_bytes=32),
        Field("address", T),
        Field("website", T),
        Field("source", T, max_bytes=16, doc="manual | card | import"),
        Field("status", T, max_bytes=16, doc="active | suggested | merged"),
        Field("card_attachment_id", U),
        Field("duplicates", J, rule="server_wins", doc="proposed merges found by the server"),
        Field("tags", J, rule="add_wins_set"),
        _notes(),
        *scope_fields(),
    ),
    DeletePolicy.UPDATE_WINS,
)

LEADS = Table(
    "leads",
    (
        Field("name", T),
        Field("company", T),
        Field("phone", T, max_bytes=64),
        Field("email", T),
        Field("source", T),
        Field("status", T, max_bytes=32),
        Field("score", I, rule="max"),
        _notes(),
        *scope_fields(),
    ),
    DeletePolicy.DELETE_WINS,
)

OPPORTUNITIES = Table(
    "opportunities",
    (
        Field("account_id", U),
        Field("name", T),
        Field("stage", T, max_bytes=32),
        Field("amount", R),
        Field("currency", T, max_bytes=8),
        Field("expected_close", D),
        Field("win_probability", I),
        _notes(),
        *scope_fields(),
    ),
    DeletePolicy.UPDATE_WINS,
)

_EVIDENCE = "first_write_wins"
VISITS = Table(
    "visits",
    (
        Field("account_id", U),
        Field("rep_id", U),
        Field("plan_id", T, max_bytes=64),
        Field("sequence", I),
        Field("planned_start", TS),
        Field("planned_end", TS),
        Field("status", T, max_bytes=16, doc="planned | checked_in | done | skipped"),
        Field("checkin_at", TS, rule=_EVIDENCE),
        Field("checkin_device_time", TS, rule=_EVIDENCE),
        *_location("checkin_", _EVIDENCE),
        Field("checkin_accuracy_m", R, rule=_EVIDENCE),
        Field("checkin_mock", B, rule=_EVIDENCE),
        Field("checkin_photo_sha256", T, rule=_EVIDENCE, max_bytes=64),
        Field("checkin_fix_time", TS, rule=_EVIDENCE, doc="satellite time of the GPS fix"),
        Field("checkin_clock_offset_s", R, rule=_EVIDENCE, doc="phone clock minus server clock at its last sync"),
        Field("checkout_at", TS, rule=_EVIDENCE),
        Field("checkout_device_time", TS, rule=_EVIDENCE),
        *_location("checkout_", _EVIDENCE),
        Field("checkout_accuracy_m", R, rule=_EVIDENCE),
        Field("checkin_received_at", TS, rule="server_wins", server_only=True),
        Field("verdict", T, rule="server_wins", server_only=True, max_bytes=16),
        Field("verdict_reasons", J, rule="server_wins", server_only=True),
        Field("distance_m", R, rule="server_wins", server_only=True),
        Field("outcome", T),
        _notes(),
        *scope_fields(),
    ),
    DeletePolicy.UPDATE_WINS,
    doc="planned and actual customer visits with check-in evidence",
)

TASKS = Table(
    "tasks",
    (
        Field("title", T),
        Field("due_at", TS),
        Field("assignee_id", U),
        Field("status", T, max_bytes=16, doc="suggested | open | done | dismissed"),
        Field("priority", T, max_bytes=16),
        Field("source", T, max_bytes=16, doc="manual | voice | card"),
        Field("account_id", U),
        Field("contact_id", U),
        Field("amount", R),
        Field("currency", T, max_bytes=8),
        Field("source_text", T, max_bytes=8192),
        Field("confidence", R),
        Field("memo_attachment_id", U),
        _notes(),
        *scope_fields(),
    ),
    DeletePolicy.DELETE_WINS,
)

ATTACHMENTS = Table(
    "attachments",
    (
        Field("sha256", T, max_bytes=64),
        Field("size", I),
        Field("mime", T, max_bytes=128),
        Field("kind", T, max_bytes=16, doc="card_photo | voice_memo | visit_photo"),
        Field("filename", T),
        Field("recorded_at", TS),
        Field("time_zone", T, max_bytes=64),
        Field("lang", T, max_bytes=8),
        Field("transcript", T, max_bytes=64 * 1024, doc="a transcript made on the phone"),
        Field("record_table", T, max_bytes=32),
        Field("record_id", U),
        Field("status", T, rule="server_wins", server_only=True, max_bytes=16, doc="pending | stored | processed | failed"),
        Field("result", J, rule="server_wins", server_only=True, max_bytes=64 * 1024),
        *scope_fields(),
    ),
    DeletePolicy.DELETE_WINS,
)

CRM_SCHEMA = Schema(1, (ACCOUNTS, CONTACTS, LEADS, OPPORTUNITIES, VISITS, TASKS, ATTACHMENTS))

__all__ = ["CRM_SCHEMA"]
