"""fieldsync.sync."""
