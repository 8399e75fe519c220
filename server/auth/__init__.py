"""Authentication: device tokens (and, with the security model, users and logins)."""
