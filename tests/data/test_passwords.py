from __future__ import annotations

from data.passwords import DUMMY_HASH, hash_password, verify_password


def test_hash_is_argon2id_salted_and_verifies() -> None:
    first, second = hash_password("pass"), hash_password("pass")
    assert first.startswith("$argon2id$")
    assert first != second
    assert verify_password(first, "pass")
    assert not verify_password(first, "Pass")


def test_malformed_stored_hash_is_a_mismatch_not_a_crash() -> None:
    assert not verify_password("not-a-hash", "pass")
    assert not verify_password(DUMMY_HASH, "pass")
