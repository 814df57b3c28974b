"""The webhook JWT verifier, one rule at a time: what it accepts, and what it refuses and why.

Tokens are built segment by segment and signed over exactly those bytes, so each case breaks one
rule while the signature stays genuine: the verifier must refuse the token for that rule, not
because the signature happens to fail.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any, Final

import jwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.support.webhooks import KeyPair, valid_claims
from wix_fulfillment.adapters.wix_webhook import (
    CLOCK_LEEWAY_SECONDS,
    InvalidToken,
    WebhookVerifier,
    load_webhook_public_key,
)

KEYS: Final = KeyPair.generate()
VERIFIER: Final = WebhookVerifier(load_webhook_public_key(KEYS.public_pem))
RS256: Final = {"alg": "RS256", "typ": "JWT"}


def b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def encoded(value: Any) -> bytes:
    return value if isinstance(value, bytes) else json.dumps(value).encode()


def signature_over(signing_input: bytes, keys: KeyPair = KEYS) -> bytes:
    return keys.private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())


def token_of(
    header: Any = RS256,
    claims: Any = None,
    *,
    header_segment: bytes | None = None,
    payload_segment: bytes | None = None,
) -> bytes:
    """A token signed RS256 with KEYS over exactly the segments given (JSON-encoded from
    ``header`` and ``claims`` unless given as raw segments)."""
    header_segment = b64url(encoded(header)) if header_segment is None else header_segment
    if payload_segment is None:
        payload_segment = b64url(encoded(valid_claims() if claims is None else claims))
    signing_input = header_segment + b"." + payload_segment
    return signing_input + b"." + b64url(signature_over(signing_input))


def claims_with(**changes: Any) -> dict[str, Any]:
    """Good claims changed: None removes a claim; ints for exp, nbf, iat are seconds from now."""
    now = int(time.time())
    claims = valid_claims()
    for name, value in changes.items():
        if value is None:
            claims.pop(name, None)
        elif name in ("exp", "nbf", "iat") and type(value) is int:
            claims[name] = now + value
        else:
            claims[name] = value
    return claims


def refused(token: bytes, reason: str) -> None:
    with pytest.raises(InvalidToken, match=reason):
        VERIFIER.verified_claims(token)


def test_a_good_token_gives_its_claims() -> None:
    claims = valid_claims()

    assert VERIFIER.verified_claims(token_of(claims=claims)) == claims


def test_verification_agrees_with_pyjwt_on_a_good_token() -> None:
    token = token_of()

    expected = jwt.decode(token, KEYS.private_key.public_key(), algorithms=["RS256"])
    assert VERIFIER.verified_claims(token) == expected


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "RS256"},
        {"alg": "RS256", "typ": "JWT", "kid": "wix-key-1"},
        {"typ": "at+jwt", "alg": "RS256"},
        {"alg": "RS256", "typ": "JWT", "cty": "json", "x5t": "abc", "wix": {"any": [1, 2]}},
        {"alg": "RS256", "b64": True},
    ],
    ids=["alg-only", "kid", "other-typ", "extra-fields", "b64-true"],
)
def test_headers_with_other_fields_are_accepted(header: dict[str, Any]) -> None:
    assert "data" in VERIFIER.verified_claims(token_of(header))


@pytest.mark.parametrize(
    "changes",
    [
        {"aud": "some-app"},
        {"aud": ["a", 1]},
        {"iat": 3600},
        {"iat": "yesterday"},
        {"exp": -CLOCK_LEEWAY_SECONDS // 2},
        {"exp": time.time() + 3600.5},
        {"exp": 10**30},
        {"nbf": -3600},
        {"nbf": CLOCK_LEEWAY_SECONDS // 2},
    ],
    ids=[
        "audience",
        "audience-of-any-shape",
        "issued-in-the-future",
        "iat-not-a-number",
        "expired-within-leeway",
        "exp-a-fraction",
        "exp-far-away",
        "nbf-past",
        "nbf-within-leeway",
    ],
)
def test_claims_only_wixs_sdk_would_accept_are_accepted(changes: dict[str, Any]) -> None:
    assert "data" in VERIFIER.verified_claims(token_of(claims=claims_with(**changes)))


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"exp": -2 * CLOCK_LEEWAY_SECONDS}, "expired"),
        ({"exp": "4102444800"}, "exp claim must be a number"),
        ({"exp": True}, "exp claim must be a number"),
        ({"exp": [4102444800]}, "exp claim must be a number"),
        ({"exp": float("nan")}, "exp claim must be a number"),
        ({"exp": float("inf")}, "exp claim must be a number"),
        ({"nbf": 2 * CLOCK_LEEWAY_SECONDS}, "not valid yet"),
        ({"nbf": "now"}, "nbf claim must be a number"),
    ],
    ids=[
        "expired",
        "exp-a-string",
        "exp-a-boolean",
        "exp-a-list",
        "exp-nan",
        "exp-infinity",
        "nbf-ahead",
        "nbf-a-string",
    ],
)
def test_bad_times_are_refused(changes: dict[str, Any], reason: str) -> None:
    refused(token_of(claims=claims_with(**changes)), reason)


def test_exp_null_is_refused_as_wixs_sdk_refuses_it() -> None:
    claims = claims_with()
    claims["exp"] = None

    refused(token_of(claims=claims), "exp claim must be a number")


def test_a_token_without_exp_is_accepted_as_wixs_sdk_accepts_it() -> None:
    claims = claims_with()
    del claims["exp"]

    assert "data" in VERIFIER.verified_claims(token_of(claims=claims))


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "none"},
        {"alg": "HS256"},
        {"alg": "RS512"},
        {"alg": "PS256"},
        {"alg": "ES256"},
        {"alg": "rs256"},
        {"alg": ["RS256"]},
        {"alg": None},
        {"typ": "JWT"},
    ],
    ids=["none", "HS256", "RS512", "PS256", "ES256", "lower-case", "a-list", "null", "missing"],
)
def test_only_rs256_is_allowed_even_when_the_signature_is_rs256(header: dict[str, Any]) -> None:
    refused(token_of(header), "alg must be RS256")


def test_an_unsigned_token_is_refused() -> None:
    unsigned = b64url(b'{"alg":"none","typ":"JWT"}') + b"." + b64url(encoded(valid_claims()))

    refused(unsigned + b".", "alg must be RS256")


def test_hs256_keyed_with_the_public_key_is_refused() -> None:
    signing_input = b64url(b'{"alg":"HS256","typ":"JWT"}') + b"." + b64url(encoded(valid_claims()))
    mac = hmac.new(KEYS.public_pem.encode(), signing_input, hashlib.sha256).digest()

    refused(signing_input + b"." + b64url(mac), "alg must be RS256")


def test_a_token_signed_rs512_with_the_right_key_is_refused() -> None:
    token = jwt.encode(valid_claims(), KEYS.private_key, algorithm="RS512").encode()

    refused(token, "alg must be RS256")


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ({"alg": "RS256", "kid": 1}, "kid must be a string"),
        ({"alg": "RS256", "crit": ["exp"], "exp": 1}, "critical header extensions"),
        ({"alg": "RS256", "crit": ["b64"], "b64": True}, "critical header extensions"),
        ({"alg": "RS256", "b64": False}, "unencoded payloads"),
        ({"alg": "RS256", "b64": "false"}, "unencoded payloads"),
    ],
    ids=["kid-a-number", "crit", "crit-b64", "b64-false", "b64-not-a-boolean"],
)
def test_headers_asking_for_what_we_do_not_do_are_refused(
    header: dict[str, Any], reason: str
) -> None:
    refused(token_of(header), reason)


@pytest.mark.parametrize(
    ("segment", "reason"),
    [
        (b"", "header is not JSON"),
        (b64url(b"not json"), "header is not JSON"),
        (b64url(b'["RS256"]'), "header is not a JSON object"),
        (b64url(b'{"alg":"RS256","x":"\xff"}'), "header is not JSON in UTF-8"),
        (b64url('{"alg":"RS256"}'.encode("utf-16")), "header is not JSON"),
        (b64url(b"[" * 100_000 + b"]" * 100_000), "header is not JSON"),
    ],
    ids=["empty", "not-json", "a-list", "not-utf8", "utf16", "deeply-nested"],
)
def test_headers_that_are_not_json_objects_are_refused(segment: bytes, reason: str) -> None:
    refused(token_of(header_segment=segment), reason)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", "payload is not JSON"),
        (b"not json", "payload is not JSON"),
        (b"[]", "payload is not a JSON object"),
        (b'"claims"', "payload is not a JSON object"),
        (b'{"exp": 4102444800, "data": "\xff\xfe"}', "payload is not JSON in UTF-8"),
        (b'{"exp": 4102444800, "data": "\xed\xa0\x80"}', "payload is not JSON in UTF-8"),
        ('{"exp": 4102444800}'.encode("utf-16"), "payload is not JSON"),
        (b'\xef\xbb\xbf{"exp": 4102444800}', "payload is not JSON"),
        (b'{"exp": ' + b"9" * 5000 + b"}", "payload is not JSON"),
        (b'{"d": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "payload is not JSON"),
    ],
    ids=[
        "empty",
        "not-json",
        "a-list",
        "a-string",
        "not-utf8",
        "encoded-surrogate",
        "utf16",
        "utf8-bom",
        "exp-of-5000-digits",
        "deeply-nested",
    ],
)
def test_payloads_that_are_not_json_objects_are_refused(payload: bytes, reason: str) -> None:
    refused(token_of(payload_segment=b64url(payload)), reason)


@pytest.mark.parametrize("segment", ["header", "payload"])
def test_padded_segments_are_accepted(segment: str) -> None:
    header, payload = _canonical_header(), _payload_of_length(2)
    if segment == "header":
        token = token_of(header_segment=header + b"==", payload_segment=payload)
    else:
        token = token_of(header_segment=header, payload_segment=payload + b"==")

    assert "data" in VERIFIER.verified_claims(token)


def _alternate_spelling(segment: bytes) -> bytes:
    """The same bytes with non-zero spare bits in the last character: another spelling."""
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    index = alphabet.index(segment[-1])
    other = segment[:-1] + alphabet[index + 1 : index + 2]
    padding = b"=" * (-len(segment) % 4)
    assert base64.urlsafe_b64decode(other + padding) == base64.urlsafe_b64decode(segment + padding)
    return other


def _canonical_header() -> bytes:
    """An RS256 header whose segment is 2 characters past a multiple of 4."""
    header = b64url(b'{"alg":"RS256" }')
    assert len(header) % 4 == 2
    return header


def _payload_of_length(remainder: int) -> bytes:
    claims = valid_claims()
    for size in range(8):
        claims["pad"] = "x" * size
        segment = b64url(encoded(claims))
        if len(segment) % 4 == remainder:
            return segment
    raise AssertionError("unreachable")


def _one_over(segment: bytes) -> bytes:
    """The segment grown to one character past a multiple of four: no base64 has that length."""
    return segment + b"A" * ((1 - len(segment)) % 4)


BAD_BASE64: Final[dict[str, Callable[[bytes], bytes]]] = {
    "plus": lambda segment: segment[:4] + b"+" + segment[5:],
    "slash": lambda segment: segment[:4] + b"/" + segment[5:],
    "bang": lambda segment: segment[:4] + b"!" + segment[5:],
    "space": lambda segment: segment[:4] + b" " + segment[5:],
    "newline": lambda segment: segment[:4] + b"\n" + segment[5:],
    "not-ascii": lambda segment: segment[:4] + b"\xc3\xa9" + segment[6:],
    "null-byte": lambda segment: segment[:4] + b"\x00" + segment[5:],
    "inner-padding": lambda segment: segment[:4] + b"==" + segment[6:],
    "one-character-over": _one_over,
    "three-pads": lambda segment: segment + b"===",
    "pad-on-a-full-quantum": lambda segment: segment[: len(segment) // 4 * 4] + b"==",
}
"""Ways to spoil a base64url segment: characters outside the URL-safe alphabet, impossible
lengths, padding where none may be."""


@pytest.mark.parametrize("damage", sorted(BAD_BASE64))
@pytest.mark.parametrize("segment", ["header", "payload", "signature"])
def test_bad_base64_in_any_segment_is_refused(segment: str, damage: str) -> None:
    change = BAD_BASE64[damage]
    header, payload, signature = token_of(header_segment=_canonical_header()).split(b".")
    if segment == "signature":
        token = b".".join([header, payload, change(signature)])
    elif segment == "header":
        token = token_of(header_segment=change(header))
    else:
        token = token_of(header_segment=header, payload_segment=change(payload))

    refused(token, f"the {segment} segment (is not base64url|has wrong padding)")


@pytest.mark.parametrize("segment", ["header", "payload", "signature"])
def test_a_second_spelling_of_a_segment_is_refused(segment: str) -> None:
    header, payload = _canonical_header(), _payload_of_length(3)
    if segment == "header":
        token = token_of(header_segment=_alternate_spelling(header), payload_segment=payload)
    elif segment == "payload":
        token = token_of(header_segment=header, payload_segment=_alternate_spelling(payload))
    else:
        good = token_of(header_segment=header, payload_segment=payload)
        signing_input, _, signature = good.rpartition(b".")
        assert len(signature) % 4 == 2  # 256 bytes
        token = signing_input + b"." + _alternate_spelling(signature)

    refused(token, f"the {segment} segment is not base64url")


WRONG_LENGTHS: Final[dict[str, Callable[[bytes], bytes]]] = {
    "empty": lambda signature: b"",
    "one-byte": lambda signature: signature[:1],
    "a-byte-short": lambda signature: signature[1:],
    "a-leading-zero-more": lambda signature: b"\x00" + signature,
    "twice": lambda signature: signature * 2,
}


@pytest.mark.parametrize("make", list(WRONG_LENGTHS.values()), ids=list(WRONG_LENGTHS))
def test_a_signature_of_the_wrong_length_is_refused(make: Callable[[bytes], bytes]) -> None:
    signing_input = token_of().rpartition(b".")[0]
    signature = make(signature_over(signing_input))

    refused(signing_input + b"." + b64url(signature), "Signature verification failed: wrong length")


def _last_bit_flipped(signature: bytes) -> bytes:
    return signature[:-1] + bytes([signature[-1] ^ 1])


@pytest.mark.parametrize(
    "forge",
    [
        lambda signing_input: signature_over(signing_input, KeyPair.generate()),
        lambda signing_input: signature_over(signing_input + b"x"),
        lambda signing_input: bytes(256),
        lambda signing_input: _last_bit_flipped(signature_over(signing_input)),
    ],
    ids=["another-key", "another-input", "zeros", "last-byte-changed"],
)
def test_a_signature_that_does_not_verify_is_refused(forge: Callable[[bytes], bytes]) -> None:
    signing_input = token_of().rpartition(b".")[0]

    refused(signing_input + b"." + b64url(forge(signing_input)), "Signature verification failed")


def test_the_signature_covers_the_payload_as_sent() -> None:
    header, _, signature = token_of().split(b".")
    other = b64url(encoded(claims_with(data=json.dumps({"eventType": "forged"}))))

    refused(b".".join([header, other, signature]), "Signature verification failed")


@pytest.mark.parametrize(
    "token",
    [
        b"",
        b"no-dots-at-all",
        b"one.dot",
        b"..",
        token_of() + b".CANARY",
        token_of() + b".",
    ],
    ids=["empty", "one-segment", "two-segments", "only-dots", "four-segments", "trailing-dot"],
)
def test_tokens_without_exactly_three_segments_are_refused(token: bytes) -> None:
    with pytest.raises(InvalidToken):
        VERIFIER.verified_claims(token)


def test_a_key_of_another_size_sets_the_signature_length() -> None:
    big = KeyPair(rsa.generate_private_key(public_exponent=65537, key_size=3072))
    verifier = WebhookVerifier(load_webhook_public_key(big.public_pem))
    signing_input = token_of().rpartition(b".")[0]
    token = signing_input + b"." + b64url(signature_over(signing_input, big))

    assert "data" in verifier.verified_claims(token)
    with pytest.raises(InvalidToken, match="wrong length"):
        verifier.verified_claims(token_of())
