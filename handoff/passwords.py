"""Password hashes: argon2id (argon2-cffi's recommended parameters); the older scrypt hashes still verify, and are
replaced by an argon2 hash at the account's next login (`needs_rehash`)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

SCHEME = "argon2id"
_hasher = PasswordHasher()  # argon2id, RFC 9106's low-memory profile: 64 MiB, 3 passes

# The scheme before argon2 (revision 0015s): `scrypt$n$r$p$salt$key`, salt and key in base64.
LEGACY_SCHEME = "scrypt"
KEY_BYTES = 32


def hash_password(password: str) -> str:
    """An argon2id hash in the PHC string format (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`)."""
    return _hasher.hash(password)


def _verify_scrypt(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != LEGACY_SCHEME:
            return False
        expected = base64.b64decode(key)
        actual = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                                dklen=KEY_BYTES, maxmem=256 * int(n) * int(r))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` is the one `stored` was made from (argon2, or the older scrypt)."""
    if stored.startswith(f"{LEGACY_SCHEME}$"):
        return _verify_scrypt(password, stored)
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """An older scheme, or argon2 with weaker parameters than today's: hash the password again at login."""
    if not stored.startswith(f"${SCHEME}$"):
        return True
    try:
        return _hasher.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def temporary_password() -> str:
    """A password an administrator hands over once; the account must change it at its first login."""
    return secrets.token_urlsafe(12)


# Checked against when the user does not exist, so that an unknown name takes as long as a wrong password.
DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
