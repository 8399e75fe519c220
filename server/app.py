"""The application factory: ``create_app(settings)`` builds the whole server.

Nothing is created at import time. The returned app owns its store, hub and
services; they are started and stopped by the app's lifespan.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI

from fieldsync.server.api import AUTHENTICATED, ROUTER_MODULES
from fieldsync.server.auth.routes import build_router as auth_router
from fieldsync.server.auth.service import AuthService
from fieldsync.server.errors import install_error_handlers
from fieldsync.server.hub import Hub
from fieldsync.server.logs import RequestIdMiddleware
from fieldsync.server.org.routes import build_router as admin_router
from fieldsync.server.settings import Settings
from fieldsync.server.store import open_store
from fieldsync.server.sync_api import build_router as sync_router
from fieldsync.server.sync_api import require_device
from fieldsync.sync.crm import CRM_SCHEMA


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the FieldSync server for ``settings`` (``Settings()`` if omitted)."""
    settings = settings or Settings()
    modules: list[Any] = []  # router modules; their optional on_startup(app) runs in the lifespan

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = await asyncio.to_thread(lambda: open_store(settings.database_url, CRM_SCHEMA, synchronous=settings.sqlite_synchronous))
        hub = Hub(store, settings, CRM_SCHEMA)
        await hub.start()
        app.state.store = store
        app.state.hub = hub
        app.state.auth = AuthService(hub.org, hub.devices, hub.audit, settings)
        for module in modules:
            hook = getattr(module, "on_startup", None)
            if hook is not None:
                await hook(app)
        try:
            yield
        finally:
            for module in reversed(modules):
                hook = getattr(module, "on_shutdown", None)
                if hook is not None:
                    await hook(app)
            await hub.stop()
            store.close()

    app = FastAPI(title="FieldSync", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.add_middleware(RequestIdMiddleware)
    install_error_handlers(app)

    @app.get("/health", tags=["ops"])
    async def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    app.include_router(sync_router())
    app.include_router(auth_router())
    app.include_router(admin_router())
    for name in ROUTER_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        modules.append(module)
        guard = [Depends(require_device)] if name in AUTHENTICATED else []
        app.include_router(module.build_router(settings), dependencies=guard)
    return app
