"""Organisation, roles, data scopes, devices, audit and erasure (``docs/security.md``)."""
