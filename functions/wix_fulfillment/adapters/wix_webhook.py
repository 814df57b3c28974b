"""Where the Wix webhook's JWT is verified: RS256 with the app's public key from the Wix app
dashboard (Wix publishes no JWKS for webhooks). The algorithm is pinned, so neither ``alg: none``
nor an HS256 token "signed" with the public key's bytes can pass.

Checked with ``cryptography`` directly rather than through PyJWT, whose per-character base64
checks in Python made large orders slow (docs/architecture.md). The checks are PyJWT's as we
called it (60 s leeway, ``nbf`` checked, ``aud``/``iat`` not, canonical
base64url; ``exp`` checked when present, as Wix's SDK does), and where Wix's SDK (jose) is
stricter we are too: numeric dates must be JSON
numbers, header and claims UTF-8 JSON, and a ``crit`` header is refused.
"""

from __future__ import annotations

import binascii
import json
import math
import re
import time
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from wix_fulfillment.adapters.settings import ConfigurationError

CLOCK_LEEWAY_SECONDS: Final = 60
_PEM_HEADER: Final = "-----BEGIN PUBLIC KEY-----"
_PEM_FOOTER: Final = "-----END PUBLIC KEY-----"
_WHITESPACE: Final = re.compile(r"\s+")
ALGORITHM: Final = "RS256"
_TO_STANDARD_BASE64: Final = bytes.maketrans(b"-_", b"+/")
_LAST_CHARACTER: Final = {2: b"AQgw", 3: b"AEIMQUYcgkosw048"}
"""The characters that may end a segment whose length is 2 or 3 modulo 4: those whose bits past
the last whole byte are zero. Any other would decode to the same bytes, so a token would have
more than one spelling; PyJWT refuses those too."""


class InvalidToken(Exception):
    """The body is not a JWT that Wix signed for this app and that is still valid (answered 401)."""


def load_webhook_public_key(text: str) -> RSAPublicKey:
    """Accept the key as Wix's dashboard shows it, or as it survives a one-line setting.

    A PEM pasted into a CloudFormation parameter or a .env file often arrives on one line, with
    literal ``\\n`` sequences, without its header, or as one line of base64 of the whole PEM
    (a form Wix's SDK takes); all of those mean the same key.
    """
    text = _pem_from_base64(text) or text
    body = text.replace("\\n", "\n").replace(_PEM_HEADER, "").replace(_PEM_FOOTER, "")
    body = _WHITESPACE.sub("", body)
    lines = [body[start : start + 64] for start in range(0, len(body), 64)]
    pem = "\n".join([_PEM_HEADER, *lines, _PEM_FOOTER, ""])
    try:
        key = load_pem_public_key(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as error:
        raise ConfigurationError(
            "WIX_WEBHOOK_PUBLIC_KEY is not a public key in PEM form (copy it from the Wix app "
            "dashboard, Webhooks page)"
        ) from error
    if not isinstance(key, RSAPublicKey):
        raise ConfigurationError("WIX_WEBHOOK_PUBLIC_KEY must be an RSA public key")
    return key


def _pem_from_base64(text: str) -> str | None:
    """The PEM inside one line of base64, if that is what the text is."""
    try:
        decoded = binascii.a2b_base64(_WHITESPACE.sub("", text).encode("ascii"))
    except (binascii.Error, UnicodeEncodeError):
        return None
    if not decoded.lstrip().startswith(_PEM_HEADER.encode()):
        return None
    return decoded.decode("ascii", errors="replace")


class WebhookVerifier:
    """Verifies webhook JWTs with the app's public key; built once per execution environment."""

    def __init__(self, public_key: RSAPublicKey) -> None:
        self._public_key = public_key
        self._signature_length = (public_key.key_size + 7) // 8

    def verified_claims(self, token: bytes) -> dict[str, Any]:
        """The token's claims, once its RS256 signature and expiry check out.

        Signature and expiry are what Wix's own SDK verifies. An audience Wix might add, or its
        clock running ahead of ours (``iat``), must not turn every delivery into a 401.
        """
        signing_input, dot, signature_segment = token.rpartition(b".")
        header_segment, other_dot, payload_segment = signing_input.partition(b".")
        if not (dot and other_dot):
            raise InvalidToken("a JWT has three segments")
        # A fourth segment would sit in the payload's: a dot is not base64url, so it is refused.
        self._check_header(_json_object(_segment(header_segment, "header"), "header"))
        signature = _segment(signature_segment, "signature")
        if len(signature) != self._signature_length:
            raise InvalidToken("Signature verification failed: wrong length")
        try:
            self._public_key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise InvalidToken("Signature verification failed") from None
        claims = _json_object(_segment(payload_segment, "payload"), "payload")
        _check_times(claims, time.time())
        return claims

    @staticmethod
    def _check_header(header: dict[str, Any]) -> None:
        """Only RS256, and nothing the header could ask of us that we do not do."""
        if header.get("alg") != ALGORITHM:
            raise InvalidToken(f"the header's alg must be {ALGORITHM}")
        if "kid" in header and not isinstance(header["kid"], str):
            raise InvalidToken("the header's kid must be a string")
        if "crit" in header:
            raise InvalidToken("critical header extensions are not supported")
        if header.get("b64", True) is not True:
            raise InvalidToken("unencoded payloads are not supported")


def _segment(segment: bytes, name: str) -> bytes:
    """Decode one base64url segment, refusing anything but its one canonical spelling.

    Trailing ``=`` padding is accepted (some issuers add it, and PyJWT accepts it); characters
    outside the URL-safe alphabet, impossible lengths and non-zero spare bits are refused.
    """
    unpadded = segment.rstrip(b"=")
    padding_length = len(segment) - len(unpadded)
    if padding_length and (padding_length > 2 or len(segment) % 4):
        raise InvalidToken(f"the {name} segment has wrong padding")
    remainder = len(unpadded) % 4
    # Once "-_" become "+/", strict decoding refuses every other character but those two and
    # "=": looking for them (fast) spares a pass over the segment in Python.
    if remainder == 1 or b"+" in unpadded or b"/" in unpadded or b"=" in unpadded:
        raise InvalidToken(f"the {name} segment is not base64url")
    if remainder and unpadded[-1] not in _LAST_CHARACTER[remainder]:
        raise InvalidToken(f"the {name} segment is not base64url")
    standard = unpadded.translate(_TO_STANDARD_BASE64) + b"=" * (-remainder % 4)
    try:
        return binascii.a2b_base64(standard, strict_mode=True)
    except binascii.Error:
        raise InvalidToken(f"the {name} segment is not base64url") from None


def _json_object(data: bytes, name: str) -> dict[str, Any]:
    """A JSON object in UTF-8, as RFC 7519 has it; anything else is not a token."""
    try:
        value = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise InvalidToken(f"the {name} is not JSON in UTF-8") from None
    if not isinstance(value, dict):
        raise InvalidToken(f"the {name} is not a JSON object")
    return value


def _check_times(claims: dict[str, Any], now: float) -> None:
    """``exp``, if present, not past (with leeway); ``nbf``, if present, not ahead of us. As in
    Wix's SDK (jose), a present claim must be a number: ``null`` is refused, absent is not."""
    if "exp" in claims and int(_numeric_date(claims["exp"], "exp")) <= now - CLOCK_LEEWAY_SECONDS:
        raise InvalidToken("the token has expired")
    if "nbf" in claims and int(_numeric_date(claims["nbf"], "nbf")) > now + CLOCK_LEEWAY_SECONDS:
        raise InvalidToken("the token is not valid yet (nbf)")


def _numeric_date(value: object, name: str) -> float:
    """A JSON number of seconds (RFC 7519 NumericDate): not a string, a boolean, NaN or inf."""
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidToken(f"the {name} claim must be a number of seconds")
    return value
