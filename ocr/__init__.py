"""fieldsync.ocr."""
