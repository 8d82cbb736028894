"""Standard Webhooks signing headers."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from app.webhooks.signing import check_secret, new_secret, sign_headers

VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TS = 1614265330
VECTOR_BODY = '{"test": 2432232314}'
VECTOR_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_standard_webhooks_test_vector():
    at = datetime.fromtimestamp(VECTOR_TS, tz=timezone.utc)
    assert sign_headers(VECTOR_ID, at, VECTOR_BODY, [VECTOR_SECRET]) == {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": "1614265330",
        "webhook-signature": VECTOR_SIG,
    }


def test_a_non_utc_timestamp_is_converted_not_relabelled():
    at = datetime.fromtimestamp(VECTOR_TS, tz=timezone.utc).astimezone(timezone(timedelta(hours=-5)))
    headers = sign_headers(VECTOR_ID, at, VECTOR_BODY, [VECTOR_SECRET])
    assert headers["webhook-timestamp"] == "1614265330"
    assert headers["webhook-signature"] == VECTOR_SIG


def test_fractions_of_a_second_are_dropped_consistently():
    at = datetime.fromtimestamp(VECTOR_TS, tz=timezone.utc) + timedelta(microseconds=999_999)
    headers = sign_headers(VECTOR_ID, at, VECTOR_BODY, [VECTOR_SECRET])
    assert headers["webhook-timestamp"] == "1614265330"
    assert headers["webhook-signature"] == VECTOR_SIG


def test_a_naive_timestamp_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        sign_headers(VECTOR_ID, datetime(2026, 1, 24, 12, 0), VECTOR_BODY, [VECTOR_SECRET])


def test_at_least_one_secret_is_needed():
    with pytest.raises(ValueError):
        sign_headers(VECTOR_ID, datetime.now(timezone.utc), VECTOR_BODY, [])


def test_during_rotation_either_secret_verifies():
    old, new = new_secret(), new_secret()
    body = '{"specversion":"1.0","id":"e1","data":{"title":"Caf\\u00e9"}}'
    headers = sign_headers("e1", datetime.now(timezone.utc), body, [new, old])
    signatures = headers["webhook-signature"].split(" ")
    assert len(signatures) == 2 and all(s.startswith("v1,") for s in signatures)
    assert Webhook(new).verify(body, headers) == Webhook(old).verify(body.encode(), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(body + " ", headers)


def test_a_repeated_secret_signs_once():
    secret = new_secret()
    headers = sign_headers("e1", datetime.now(timezone.utc), "{}", [secret, secret])
    assert " " not in headers["webhook-signature"]


def test_new_secret_shape():
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) >= 24
    check_secret(secret)
    assert new_secret() != secret
    Webhook(secret)  # the library accepts it


@pytest.mark.parametrize(
    "secret",
    [
        "",
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",  # no prefix
        "whsec_",
        "whsec_!!!!",
        "whsec_c2hvcnQ=",  # 5 bytes
        "whsec_MfKQ9r8G KYqrTwjUPD8ILPZIo2LaLaSw",
    ],
)
def test_check_secret_refuses_malformed_secrets(secret):
    with pytest.raises(ValueError):
        check_secret(secret)


def test_check_secret_accepts_the_vector_secret_and_unpadded_base64():
    check_secret(VECTOR_SECRET)
    check_secret(new_secret().rstrip("="))
