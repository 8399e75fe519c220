"""REST routers of the side services and admin API.

Each module here exposes ``build_router(settings) -> fastapi.APIRouter``;
``fieldsync.server.app.create_app`` includes every module named in
``ROUTER_MODULES``. A module may also define ``async on_startup(app)``, run by
the app's lifespan once the store and hub exist, and ``async on_shutdown(app)``,
run in reverse order before the hub stops.
"""

ROUTER_MODULES = (
    "fieldsync.server.api.cards",
    "fieldsync.server.api.routes",
    "fieldsync.server.api.memos",
    "fieldsync.server.api.attachments",
    "fieldsync.server.api.visits",
    "fieldsync.server.api.dashboard",
    "fieldsync.server.api.ops",
)
