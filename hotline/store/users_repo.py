"""Console users (argon2id password hashes) and the append-only audit log.

argon2 is deliberately slow (tens of ms of CPU): every hash and verify runs in a thread,
never on the event loop that carries the calls. A password change, a disable and a removal
delete the user's console sessions in the same transaction (revoked on every node)."""

from __future__ import annotations

import asyncio
import enum
import functools
import re
from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from hotline.errors import HotlineError
from hotline.store.database import Database
from hotline.store.loop_models import HandlingUnit
from hotline.store.models import AuditEntry, ConsoleSession, User

_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
MIN_PASSWORD = 10


class Role(enum.StrEnum):
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    UNIT = "unit"  # a handling unit's user: that unit's tickets only (hotline/web/unit_portal.py)


class UserError(HotlineError):
    """A user cannot be created or changed as asked."""


class UserRepository:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.hasher = PasswordHasher()

    @functools.cached_property
    def _dummy(self) -> str:
        """Verified against when the user does not exist, so both cases cost the same
        (hashed on first use, not at start-up)."""
        return self.hasher.hash("not a password of anyone")

    async def add(self, user_id: str, role: Role, password: str, unit: str = "") -> None:
        if not _ID.match(user_id):
            raise UserError(f"user id {user_id!r}: 1-32 letters, digits, _ . -")
        if (role is Role.UNIT) != bool(unit):
            raise UserError("a unit user needs its unit (--unit NAME), and only a unit user "
                            "has one")
        password_hash = await self._hash(password)
        try:
            async with self.db.unit() as s:
                if unit and await s.scalar(select(HandlingUnit.id).where(
                        HandlingUnit.name == unit)) is None:
                    raise UserError(f"the unit {unit!r} is not registered (hotline units add)")
                s.add(User(id=user_id, role=role.value, password_hash=password_hash,
                           created_at=datetime.now(UTC), disabled=False, unit=unit or None))
        except IntegrityError:
            raise UserError(f"user {user_id} already exists") from None
        await self.audit("system", "user_added", user_id,
                         {"role": role.value, **({"unit": unit} if unit else {})})

    async def _hash(self, password: str) -> str:
        if len(password) < MIN_PASSWORD:
            raise UserError(f"the password needs at least {MIN_PASSWORD} characters")
        return await asyncio.to_thread(self.hasher.hash, password)

    async def verify(self, user_id: str, password: str) -> User | None:
        """The user if the password is right (constant work whether or not they exist)."""
        async with self.db.unit() as s:
            user = await s.get(User, user_id) if _ID.match(user_id) else None
        stored = user.password_hash if user else await asyncio.to_thread(lambda: self._dummy)
        if not await asyncio.to_thread(self._matches, stored, password):
            return None
        if user is None or user.disabled:
            return None
        return user

    def _matches(self, stored: str, password: str) -> bool:
        try:
            return bool(self.hasher.verify(stored, password))
        except (VerificationError, InvalidHashError):
            return False

    async def set_password(self, user_id: str, password: str, by: str) -> None:
        """A new password; the user's sessions are revoked."""
        password_hash = await self._hash(password)
        await self._change(user_id, by, "password_changed", {}, password_hash=password_hash)

    async def set_disabled(self, user_id: str, disabled: bool, by: str) -> None:
        """Disable (sessions revoked, logins refused) or enable again."""
        await self._change(user_id, by, "user_disabled" if disabled else "user_enabled", {},
                           disabled=disabled)

    async def remove(self, user_id: str, by: str) -> None:
        async with self.db.unit() as s:
            user = await s.get(User, user_id)
            if user is None:
                raise UserError(f"no user {user_id}")
            role = user.role
            await s.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user_id))
            await s.delete(user)
        await self.audit(by, "user_removed", user_id, {"role": role})

    async def _change(self, user_id: str, by: str, action: str, detail: dict[str, Any],
                      **values: Any) -> None:
        async with self.db.unit() as s:
            user = await s.get(User, user_id)
            if user is None:
                raise UserError(f"no user {user_id}")
            for key, value in values.items():
                setattr(user, key, value)
            await s.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user_id))
        await self.audit(by, action, user_id, detail)

    async def all(self) -> list[User]:
        async with self.db.unit() as s:
            return list((await s.scalars(select(User).order_by(User.id))).all())

    async def get(self, user_id: str) -> User | None:
        async with self.db.unit() as s:
            return await s.get(User, user_id)

    async def audit(self, actor: str, action: str, target: str = "",
                    detail: dict[str, Any] | None = None) -> None:
        async with self.db.unit() as s:
            s.add(AuditEntry(at=datetime.now(UTC), actor=actor, action=action, target=target,
                             detail=detail or {}))

    async def audit_log(self, limit: int = 200) -> list[AuditEntry]:
        async with self.db.unit() as s:
            return list((await s.scalars(select(AuditEntry).order_by(
                AuditEntry.id.desc()).limit(limit))).all())
