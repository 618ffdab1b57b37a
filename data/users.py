"""User account queries: look-ups by id and by case-insensitive username, and sign-up."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError

from data.schema import users


@dataclass(frozen=True, slots=True)
class UserRow:
    id: int
    username: str
    password_hash: str


class UsernameTakenError(Exception):
    """Another account already has this username (compared case-insensitively)."""


_COLUMNS = (users.c.id, users.c.username, users.c.password_hash)


def user_by_id(conn: Connection, user_id: int) -> UserRow | None:
    row = conn.execute(select(*_COLUMNS).where(users.c.id == user_id)).first()
    return UserRow(*row) if row else None


def user_by_username(conn: Connection, username: str) -> UserRow | None:
    """The account whose username equals ``username`` ignoring case (the unique index's rule)."""
    query = select(*_COLUMNS).where(func.lower(users.c.username) == username.lower())
    row = conn.execute(query).first()
    return UserRow(*row) if row else None


def create_user(conn: Connection, username: str, password_hash: str) -> UserRow:
    """Insert a non-demo account; raises ``UsernameTakenError`` when the name is in use.

    The unique index on lower(username) decides, so two concurrent sign-ups for the same name
    cannot both succeed.
    """
    try:
        with conn.begin_nested():
            user_id = conn.execute(
                insert(users)
                .values(username=username, password_hash=password_hash, is_demo=False)
                .returning(users.c.id)
            ).scalar_one()
    except IntegrityError as exc:
        # Only the name index means "taken"; any other collision (say, a PostgreSQL id sequence
        # left behind explicit ids) is a fault of the store and must not pose as one.
        if user_by_username(conn, username) is None:
            raise
        raise UsernameTakenError(username) from exc
    return UserRow(user_id, username, password_hash)
