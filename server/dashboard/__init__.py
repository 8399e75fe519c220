"""The managers' live visit log: scope-filtered queries behind ``/v1/dashboard/...`` and the static page.

The page (``static/``) is one more client of the hub: it signs in through
``/v1/auth/login``, opens ``/v1/sync`` at the current head and re-fetches the
visits named in its scoped live frames through the REST endpoints of
``fieldsync.server.api.dashboard``. Every query here is filtered on the server
by the signed-in user's read scope (``fieldsync.server.org.scopes``); see
``docs/dashboard.md``.
"""
