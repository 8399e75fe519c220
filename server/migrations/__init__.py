"""Alembic migrations of the server store.

``upgrade(engine)`` brings a database to the newest revision; the server
calls it at start (``fieldsync serve``), operators may run it by hand with
``fieldsync db upgrade``. Revisions are real Alembic scripts in
``versions/``; they never import the live declaration, so an old revision
keeps meaning what it meant.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

HERE = Path(__file__).parent


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic config pointing at these migrations (and ``engine`` if given)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
        cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database behind ``engine`` to ``revision``."""
    with engine.begin() as conn:
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
