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

#: Routers whose every endpoint needs a device or access token (the side services: they run
#: OCR, route solving and speech recognition, so they are not open to strangers). The other
#: modules authenticate per endpoint, or are public on purpose (/ready, /metrics).
AUTHENTICATED = frozenset({"fieldsync.server.api.cards", "fieldsync.server.api.routes", "fieldsync.server.api.memos"})
