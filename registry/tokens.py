"""Worker tokens: random secrets of which the server keeps only a hash."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "ums_"


def token_generate() -> str:
    # 256 bits of randomness: a plain SHA-256 is enough to store it (no password stretching
    # needed for a secret nobody can guess), and it allows an indexed lookup.
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_display_prefix(token: str) -> str:
    return token[: len(TOKEN_PREFIX) + 6]
