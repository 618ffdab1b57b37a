"""A successful login or sign-up: the bearer token, when it expires, and the account."""

from __future__ import annotations

from datetime import datetime

import strawberry

from graph.accounts.user import User


@strawberry.type
class AuthPayload:
    token: str
    expires_at: datetime
    user: User
