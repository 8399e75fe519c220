"""fieldsync.geo."""
