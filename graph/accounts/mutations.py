"""Mutations of the accounts domain: sign up, log in, log out.

Refusals a user can fix come back from the service as ``Rejected`` values and leave as the
typed errors of ``accounts.errors``; the unions below say which a client must handle.
"""

from __future__ import annotations

from typing import Annotated

import strawberry

from graph.accounts.auth_payload import AuthPayload
from graph.accounts.errors import (
    ACCOUNT_ERRORS,
    InvalidCredentials,
    InvalidUsername,
    PasswordTooShort,
    TooManyAttempts,
    UsernameTaken,
)
from graph.accounts.user import User
from graph.context import Info
from graph.errors import UserErrorType, unauthenticated
from graph.fields import mutation
from graph.permissions import IsAuthenticated, requires
from graph.services.accounts import Authenticated
from graph.services.outcomes import Rejected

LoginResult = Annotated[
    AuthPayload | InvalidCredentials | TooManyAttempts, strawberry.union("LoginResult")
]
SignUpResult = Annotated[
    AuthPayload | UsernameTaken | InvalidUsername | PasswordTooShort | TooManyAttempts,
    strawberry.union("SignUpResult"),
]


def _auth_result(info: Info, outcome: Authenticated | Rejected) -> AuthPayload | UserErrorType:
    if isinstance(outcome, Rejected):
        return ACCOUNT_ERRORS[outcome.reason].from_rejected(outcome)
    # The password (or the new account) proves who this is: the payload may show the account.
    info.context.add_own_account(outcome.user.id)
    return AuthPayload(
        token=outcome.token.token,
        expires_at=outcome.token.expires_at,
        user=User.from_row(outcome.user),
    )


@strawberry.type
class AccountMutations:
    @mutation(description="Sign in; failed attempts are rate-limited.", graphql_type=LoginResult)
    async def login(self, info: Info, username: str, password: str) -> AuthPayload | UserErrorType:
        context = info.context
        outcome = await context.threads.run_password_work(
            context.services.accounts.login, username, password, context.client
        )
        return _auth_result(info, outcome)

    @mutation(
        description="Create an account: [a-z0-9_]{3,30}, password >= 8; attempts are "
        "rate-limited per client address.",
        graphql_type=SignUpResult,
    )
    async def sign_up(
        self, info: Info, username: str, password: str
    ) -> AuthPayload | UserErrorType:
        context = info.context
        outcome = await context.threads.run_password_work(
            context.services.accounts.sign_up, username, password, context.client
        )
        return _auth_result(info, outcome)

    @mutation(
        description="Sign out: the token sent with this request stops working at once "
        "(the user's other sessions stay signed in).",
        extensions=requires(IsAuthenticated()),
    )
    async def logout(self, info: Info) -> bool:
        context = info.context
        token = context.bearer_token
        # The token passed the check a moment ago; it can only have expired since.
        if token is None or not await context.run(context.services.accounts.logout, token):
            raise unauthenticated()
        return True
