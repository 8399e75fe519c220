"""The device registry: every site id belongs to one user; revoked devices are wiped.

A site id is bound to its user at first contact (login, or the first ``hello``
of a development token); from then on only that user's tokens may use it.
A revoked device keeps its row (so it can never come back) and gets ``purge``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, insert, select, update

from fieldsync.server.org.store import Device, OrgStore
from fieldsync.sync import errors as E


class DeviceRegistry:
    """Devices of users, their refresh tokens and last scope view."""

    def __init__(self, org: OrgStore) -> None:
        self.engine: Engine = org.engine
        self.org = org
        self.t = org.t["org_devices"]
        self._now = org.now

    def get(self, site: str) -> Device | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(self.t).where(self.t.c.site == site)).first()
        return None if r is None else _device(r)

    def of_user(self, user_id: str) -> list[Device]:
        with self.engine.connect() as conn:
            return [_device(r) for r in conn.execute(select(self.t).where(self.t.c.user_id == user_id).order_by(self.t.c.created_ms))]

    def bind(self, site: str, user_id: str, *, label: str = "") -> Device:
        """Register ``site`` for ``user_id`` (or confirm it); refuses another user's or a revoked device."""
        device = self.get(site)
        if device is None:
            now = self._now()
            try:
                with self.engine.begin() as conn:
                    conn.execute(insert(self.t).values(site=site, user_id=user_id, label=label or site, created_ms=now, last_seen_ms=now))
            except Exception:  # a concurrent bind of the same site: re-read and judge below
                pass
            device = self.get(site)
            if device is None:
                raise E.ServerError(E.UNAVAILABLE, "cannot register the device")
        if device.user_id != user_id:
            raise E.AuthError(E.SITE_MISMATCH, "this site id belongs to another user")
        if device.revoked:
            raise E.AuthError(E.DEVICE_REVOKED)
        return device

    def set_refresh(self, site: str, refresh_hash: str | None, expires_ms: int | None) -> None:
        self._update(site, refresh_hash=refresh_hash, refresh_expires_ms=expires_ms)

    def seen(self, site: str, *, scope: str | None = None) -> None:
        values: dict[str, Any] = {"last_seen_ms": self._now()}
        if scope is not None:
            values["scope"] = scope
        self._update(site, **values)

    def revoke(self, site: str, reason: str = "device_revoked") -> bool:
        """Revoke one device; False if unknown or already revoked."""
        with self.engine.begin() as conn:
            res = conn.execute(
                update(self.t).where(self.t.c.site == site, self.t.c.revoked_ms.is_(None))
                .values(revoked_ms=self._now(), revoked_reason=reason[:32], refresh_hash=None)
            )
            self.org.bump_version(conn)  # wakes every hub's organisation watch: the device is kicked at once
            return bool(res.rowcount)

    def revoke_user(self, user_id: str, reason: str) -> list[str]:
        sites = [d.site for d in self.of_user(user_id) if not d.revoked]
        for site in sites:
            self.revoke(site, reason)
        return sites

    def _update(self, site: str, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(self.t).where(self.t.c.site == site).values(**values))


def _device(r: Any) -> Device:
    return Device(r.site, r.user_id, r.label, int(r.created_ms), int(r.last_seen_ms), r.revoked_ms, r.revoked_reason,
                  r.refresh_hash, r.refresh_expires_ms, r.scope)


__all__ = ["DeviceRegistry"]
