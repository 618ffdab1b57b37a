"""Password hashing for stored credentials: argon2id via argon2-cffi.

Lives beside the users table because the hash format is part of what the store holds; both the
ETL (demo accounts) and the API (sign-up, login) use it. Verification is constant-time inside
argon2; callers on an event loop run it in a thread because it is deliberately slow.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP's argon2id baseline (19 MiB, 2 iterations): ~20-40 ms a hash on this machine.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

# A syntactically valid hash of a random password, verified against when the user does not
# exist, so that a login for an unknown username costs the same time as a wrong password.
DUMMY_HASH = _hasher.hash("movierec-no-such-user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; False for a mismatch or a malformed stored hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
