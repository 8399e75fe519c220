"""SQL tables of the organisation, devices and audit log (added to the store's metadata).

* ``org_departments``, ``org_roles``, ``org_users``, ``org_teams``: the organisation
  (``fieldsync.server.org.model``); roles keep their grants and hidden fields as JSON.
* ``org_devices``: the device registry: one row per site id, bound to one user,
  with the hash of its current refresh token, its revocation and the scope view
  it was last synced with.
* ``org_meta``: counters (``org_version`` grows on every organisation change).
* ``audit_log``: who did what; subjects are ids, never names, so erasure keeps it.
* ``sync_erased``: rows erased on request (GDPR/PIPL); writes to them are refused
  so an offline device cannot bring the data back.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, MetaData, String, Table, Text


def add_org_tables(metadata: MetaData) -> None:
    """Declare the organisation tables on ``metadata``."""
    Table(
        "org_departments",
        metadata,
        Column("id", String(36), primary_key=True),
        Column("name", Text, nullable=False),
        Column("parent_id", String(36)),
        Column("created_ms", BigInteger, nullable=False),
    )
    Table(
        "org_roles",
        metadata,
        Column("id", String(36), primary_key=True),
        Column("name", String(64), nullable=False, unique=True),
        Column("grants", Text, nullable=False),
        Column("hidden", Text, nullable=False),
        Column("totp_required", Boolean, nullable=False),
        Column("admin", Boolean, nullable=False),
    )
    Table(
        "org_users",
        metadata,
        Column("id", String(36), primary_key=True),
        Column("login", String(128), nullable=False, unique=True),
        Column("display_name", Text, nullable=False),
        Column("department_id", String(36)),
        Column("manager_id", String(36)),
        Column("role_id", String(36)),
        Column("password_hash", Text),
        Column("totp_secret", String(64)),
        Column("totp_enabled", Boolean, nullable=False),
        Column("totp_last_step", BigInteger, nullable=False),
        Column("recovery_codes", Text, nullable=False),
        Column("failed_logins", Integer, nullable=False),
        Column("locked_until_ms", BigInteger, nullable=False),
        Column("disabled", Boolean, nullable=False),
        Column("created_ms", BigInteger, nullable=False),
    )
    Table(
        "org_teams",
        metadata,
        Column("tbl", String(32), primary_key=True),
        Column("row_id", String(36), primary_key=True),
        Column("user_id", String(36), primary_key=True),
        Column("access", String(8), nullable=False),
        Index("ix_org_teams_user", "user_id"),
    )
    Table(
        "org_devices",
        metadata,
        Column("site", String(64), primary_key=True),
        Column("user_id", String(36), nullable=False),
        Column("label", Text, nullable=False),
        Column("created_ms", BigInteger, nullable=False),
        Column("last_seen_ms", BigInteger, nullable=False),
        Column("revoked_ms", BigInteger),
        Column("revoked_reason", String(32)),
        Column("refresh_hash", String(64)),
        Column("refresh_expires_ms", BigInteger),
        Column("scope", Text),
        Index("ix_org_devices_user", "user_id"),
    )
    Table(
        "org_meta",
        metadata,
        Column("key", String(32), primary_key=True),
        Column("value", BigInteger, nullable=False),
    )
    Table(
        "audit_log",
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("at_ms", BigInteger, nullable=False),
        Column("actor_id", String(36)),
        Column("action", String(32), nullable=False),
        Column("subject_id", String(64)),
        Column("outcome", String(16), nullable=False),
        Column("detail", Text, nullable=False),
        Index("ix_audit_log_at", "at_ms"),
        Index("ix_audit_log_subject", "subject_id"),
    )
    Table(
        "sync_erased",
        metadata,
        Column("tbl", String(32), primary_key=True),
        Column("row_id", String(36), primary_key=True),
        Column("seq", BigInteger, nullable=False),
        Column("at_ms", BigInteger, nullable=False),
    )


__all__ = ["add_org_tables"]
