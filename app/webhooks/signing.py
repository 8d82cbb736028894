"""Standard Webhooks signatures (https://www.standardwebhooks.com/) over `standardwebhooks`."""

from __future__ import annotations

import base64
import binascii
import secrets as _secrets
from collections.abc import Sequence
from datetime import datetime, timezone

from standardwebhooks import Webhook

__all__ = ["SECRET_PREFIX", "check_secret", "new_secret", "sign_headers"]

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
MIN_SECRET_BYTES = 24


def new_secret() -> str:
    """A fresh signing secret: `whsec_` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def check_secret(secret: str) -> None:
    """ValueError unless `secret` is `whsec_` + strict base64 of at least 24 bytes.

    `standardwebhooks.Webhook` decodes leniently (it drops characters outside the alphabet), so a
    mangled secret would sign with a different key than the receiver expects; refuse it instead.
    """
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"a webhook secret starts with {SECRET_PREFIX!r}")
    body = secret[len(SECRET_PREFIX) :]
    try:
        key = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except binascii.Error:
        raise ValueError("a webhook secret is base64 after its whsec_ prefix") from None
    if len(key) < MIN_SECRET_BYTES:
        raise ValueError(f"a webhook secret holds at least {MIN_SECRET_BYTES} bytes of key")


def sign_headers(msg_id: str, timestamp: datetime, body: str, secrets: Sequence[str]) -> dict[str, str]:
    """The three Standard Webhooks headers for one delivery attempt.

    `msg_id` is the event id (stable across retries, so receivers can deduplicate);
    `timestamp` is the attempt time, an aware datetime (seconds are kept, fractions dropped);
    `body` must be exactly the text sent, encoded as UTF-8. Each secret adds one `v1,<sig>`
    entry, so during a rotation's grace period receivers holding the old or the new secret
    both verify. The first secret should be the newest.
    """
    if not secrets:
        raise ValueError("at least one signing secret is needed")
    if timestamp.tzinfo is None or timestamp.utcoffset() is None:
        raise ValueError("the signing timestamp must be timezone-aware")
    # Webhook.sign replaces the tzinfo with UTC instead of converting: convert first, and drop
    # the fraction so the header and the signed string carry the same integer.
    at = timestamp.astimezone(timezone.utc).replace(microsecond=0)
    signatures = [Webhook(secret).sign(msg_id, at, body) for secret in dict.fromkeys(secrets)]
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
