"""Attachments on the server: content-addressed blobs with resumable uploads, and their processing."""
