"""Password hashing with scrypt at OWASP's parameters (N=2^17, r=8, p=1)."""

from __future__ import annotations

import asyncio
import base64
import hmac
import os

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

_N, _R, _P = 2**17, 8, 1
_LENGTH = 32


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=_LENGTH, n=n, r=r, p=p).derive(password.encode("utf-8"))


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = _derive(password, salt, _N, _R, _P)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, encoded: str | None) -> bool:
    """Constant-time check; an absent hash still costs one derivation (no user enumeration)."""
    if not encoded:
        _derive(password, b"\0" * 16, _N, _R, _P)
        return False
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        actual = _derive(password, base64.b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, base64.b64decode(digest))


# Each derivation holds 128 MiB: a burst of logins queues here instead of exhausting memory
# and the thread pool that other work (stopping pods) shares.
_DERIVATIONS = asyncio.Semaphore(2)


async def hash_password_async(password: str) -> str:
    async with _DERIVATIONS:
        return await asyncio.to_thread(hash_password, password)


async def verify_password_async(password: str, encoded: str | None) -> bool:
    async with _DERIVATIONS:
        return await asyncio.to_thread(verify_password, password, encoded)
