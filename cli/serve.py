"""``fieldsync serve``: run the sync hub and API with uvicorn."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help="run the sync server (SQLite file by default)")
    p.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default 8000; 0 picks a free one)")
    p.add_argument("--database-url", default=None, help="SQLAlchemy URL (default sqlite:///fieldsync.db)")
    p.add_argument("--log-level", default="info")
    p.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from fieldsync.server.app import create_app
    from fieldsync.server.settings import Settings

    settings = Settings.from_env()
    overrides = {k: v for k, v in {"host": args.host, "port": args.port, "database_url": args.database_url}.items() if v is not None}
    settings = settings.with_(**overrides)
    app = create_app(settings)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=args.log_level, ws_per_message_deflate=True)
    return 0
