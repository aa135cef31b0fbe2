"""Password hashing with argon2id (argon2-cffi); the clear password is never stored or logged."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 "low memory" defaults

# Verified against when the account does not exist, so that a wrong name costs as much time as
# a wrong password and response times do not tell which names exist.
_DUMMY_HASH = _hasher.hash("boltdeck: no such user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
