"""fieldsync.voice."""
