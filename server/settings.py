"""Server configuration: one ``Settings`` value, built once and passed in.

Nothing here reads the environment at import time; ``Settings.from_env()``
does, when the command line or a test asks for it.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the server needs to start.

    ``database_url``: SQLAlchemy URL; ``sqlite:///fieldsync.db`` by default,
    ``postgresql+psycopg://...`` at scale.
    ``secret_key``: signs tokens. The development default is random per
    process; ``environment="production"`` refuses to start without one.
    """

    database_url: str = "sqlite:///fieldsync.db"
    sqlite_synchronous: str = "full"  # full: an ack survives a power cut; normal: only a process crash (docs/operations.md)
    secret_key: str = ""
    environment: str = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    # protocol limits
    max_batch_changes: int = 5_000
    max_frame_bytes: int = 8 * 1024 * 1024
    page_rows: int = 500  # rows or changes per page; small pages overlap server reads with device writes (bench.sdk)
    ws_deflate_min_bytes: int = 1024  # shorter WebSocket frames go uncompressed (server/wsproto.py; 0: deflate all)
    # side services
    ocr_engine: str = "rapidocr"
    default_phone_region: str = "CN"
    max_card_image_bytes: int = 20 * 1024 * 1024
    asr_engine: str = "pocketsphinx"
    asr_model_dir: str | None = None
    memo_max_seconds: float = 1800.0
    distance_provider_url: str | None = None
    distance_provider_fallback: bool = True  # on provider failure plan with great-circle times (warned) instead of FS-5005
    checkin_radius_m: float = 200.0
    dashboard_tile_url: str | None = None  # optional map tiles, e.g. https://tiles.example.com/{z}/{x}/{y}.png
    attachments_dir: Path = Path("attachments")
    max_attachment_bytes: int = 64 * 1024 * 1024
    # scale-out
    notifier: str = "auto"  # auto | memory | local | postgres | redis | nats
    redis_url: str = "redis://127.0.0.1:6379/0"
    nats_url: str = "nats://127.0.0.1:4222"
    compaction_horizon_days: float = 30.0
    # security (docs/security.md)
    org_poll_s: float = 1.0  # how often a hub checks the organisation/device version
    access_token_ttl_s: int = 15 * 60
    refresh_token_ttl_s: int = 60 * 24 * 3600
    totp_for_managers: bool = True  # anyone with reports must use a second factor
    login_max_failures: int = 5
    login_lockout_s: int = 15 * 60
    login_per_minute: int = 30  # sign-in and refresh attempts per client address
    totp_issuer: str = "FieldSync"
    conflict_retention_days: float = 365.0
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.environment == "production" and len(self.secret_key) < 32:
            raise ValueError("FIELDSYNC_SECRET_KEY (32+ characters) is required in production")
        if not self.secret_key:
            object.__setattr__(self, "secret_key", secrets.token_urlsafe(32))

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_(self, **changes: object) -> Settings:
        """Return a copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Build settings from ``FIELDSYNC_*`` environment variables."""
        env = dict(os.environ if environ is None else environ)
        kwargs: dict[str, object] = {}
        for f in cls.__dataclass_fields__.values():
            key = "FIELDSYNC_" + f.name.upper()
            if key not in env or f.name == "extra":
                continue
            raw = env[key]
            default = f.default
            if isinstance(default, bool):
                kwargs[f.name] = raw.lower() in {"1", "true", "yes", "on"}
            elif isinstance(default, int):
                kwargs[f.name] = int(raw)
            elif isinstance(default, float):
                kwargs[f.name] = float(raw)
            elif isinstance(default, Path):
                kwargs[f.name] = Path(raw)
            else:
                kwargs[f.name] = raw
        return cls(**kwargs)  # type: ignore[arg-type]
