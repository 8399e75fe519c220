"""``fieldsync serve``: run the sync hub and API with uvicorn."""

from __future__ import annotations

import argparse
import socket


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help="run the sync server (SQLite file by default)")
    p.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default 8000; 0 picks a free one)")
    p.add_argument("--database-url", default=None, help="SQLAlchemy URL (default sqlite:///fieldsync.db)")
    p.add_argument("--log-level", default="info")
    p.add_argument(
        "--reuse-port",
        action="store_true",
        help="share the port with other fieldsync serve processes on this machine (SO_REUSEPORT; the kernel spreads connections)",
    )
    p.set_defaults(handler=_serve)
    m = sub.add_parser("migrate", help="migrate the database to the newest schema (the server also does this at start)")
    m.add_argument("--database-url", default=None, help="SQLAlchemy URL (default: FIELDSYNC_DATABASE_URL or sqlite:///fieldsync.db)")
    m.set_defaults(handler=_migrate)
    c = sub.add_parser("compact", help="trim the change log, tombstones and old history past the horizon")
    c.add_argument("--database-url", default=None, help="SQLAlchemy URL (default: FIELDSYNC_DATABASE_URL or sqlite:///fieldsync.db)")
    c.add_argument("--horizon-days", type=float, default=None, help="longest a device may stay offline (default: settings)")
    c.set_defaults(handler=_compact)


def _compact(args: argparse.Namespace) -> int:
    from fieldsync.server.compaction import compact
    from fieldsync.server.settings import Settings
    from fieldsync.server.store import open_store
    from fieldsync.sync.crm import CRM_SCHEMA

    settings = Settings.from_env()
    store = open_store(args.database_url or settings.database_url, CRM_SCHEMA)
    try:
        horizon = settings.compaction_horizon_days if args.horizon_days is None else args.horizon_days
        report = compact(store, horizon_days=horizon, conflict_retention_days=settings.conflict_retention_days)
    finally:
        store.close()
    print(
        f"log floor {report.floor}: removed {report.changes} changes, {report.tombstones} tombstones, "
        f"{report.batches} batch records, {report.conflicts} conflict entries"
    )
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from fieldsync.server.settings import Settings
    from fieldsync.server.store.sql import make_engine, migrate_locked

    url = args.database_url or Settings.from_env().database_url
    engine = make_engine(url)
    try:
        migrate_locked(engine)
    finally:
        engine.dispose()
    print(f"migrated {engine.url.render_as_string(hide_password=True)} to head")
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from fieldsync.server.app import create_app
    from fieldsync.server.logs import configure_logging
    from fieldsync.server.settings import Settings
    from fieldsync.server.wsproto import uvicorn_ws_options

    settings = Settings.from_env()
    overrides = {k: v for k, v in {"host": args.host, "port": args.port, "database_url": args.database_url}.items() if v is not None}
    settings = settings.with_(**overrides)
    configure_logging(args.log_level)
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=args.log_level,
        log_config=None,
        **uvicorn_ws_options(settings),
    )
    server = uvicorn.Server(config)
    server.run(sockets=[_shared_socket(settings.host, settings.port)] if args.reuse_port else None)
    return 0


def _shared_socket(host: str, port: int) -> socket.socket:
    """A listening socket that other processes may bind too (several hubs on one port and one store)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock
