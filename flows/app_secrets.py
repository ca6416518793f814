"""Partner-app token secrets (SPEC §2.4): how one is minted and how it is stored.

Here, below auth, because both sides need them: flows.app_tokens mints and stores secrets,
auth recognises and verifies them; flows never import auth.
"""

from __future__ import annotations

import hashlib
import secrets

# What tells an app token from a JWT at a glance (and to secret scanners).
APP_TOKEN_PREFIX = "cgat_"


def new_app_secret() -> str:
    """A fresh secret: APP_TOKEN_PREFIX and 32 random bytes, URL-safe base64 (48 characters in all)."""
    return APP_TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_app_secret(secret: str) -> str:
    """What is stored of a secret: its SHA-256, 64 hex digits (the secret itself never is)."""
    return hashlib.sha256(secret.encode()).hexdigest()
