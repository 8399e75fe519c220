"""fieldsync.server."""
