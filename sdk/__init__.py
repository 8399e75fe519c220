"""fieldsync.sdk."""
