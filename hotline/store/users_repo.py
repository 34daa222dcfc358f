"""Console users (argon2id password hashes) and the append-only audit log."""

from __future__ import annotations

import enum
import functools
import re
from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hotline.errors import HotlineError
from hotline.store.database import Database
from hotline.store.models import AuditEntry, User

_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
MIN_PASSWORD = 10


class Role(enum.StrEnum):
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


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

    async def add(self, user_id: str, role: Role, password: str) -> None:
        if not _ID.match(user_id):
            raise UserError(f"user id {user_id!r}: 1-32 letters, digits, _ . -")
        if len(password) < MIN_PASSWORD:
            raise UserError(f"the password needs at least {MIN_PASSWORD} characters")
        try:
            async with self.db.unit() as s:
                s.add(User(id=user_id, role=role.value, password_hash=self.hasher.hash(
                    password), created_at=datetime.now(UTC), disabled=False))
        except IntegrityError:
            raise UserError(f"user {user_id} already exists") from None
        await self.audit("system", "user_added", user_id, {"role": role.value})

    async def verify(self, user_id: str, password: str) -> User | None:
        """The user if the password is right (constant work whether or not they exist)."""
        async with self.db.unit() as s:
            user = await s.get(User, user_id) if _ID.match(user_id) else None
        try:
            self.hasher.verify(user.password_hash if user else self._dummy, password)
        except (VerificationError, InvalidHashError):
            return None
        if user is None or user.disabled:
            return None
        return user

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
