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
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey, RSAPublicNumbers

from wix_fulfillment.adapters.settings import ConfigurationError

CLOCK_LEEWAY_SECONDS: Final = 60
_PEM_HEADER: Final = "-----BEGIN PUBLIC KEY-----"
_PEM_FOOTER: Final = "-----END PUBLIC KEY-----"
_WHITESPACE: Final = re.compile(r"\s+")
ALGORITHM: Final = "RS256"
_TO_STANDARD_BASE64: Final = bytes.maketrans(b"-_", b"+/")
_RSA_ENCRYPTION: Final = bytes.fromhex("06092a864886f70d010101")
"""The DER of rsaEncryption's object identifier (1.2.840.113549.1.1.1, RFC 8017 A.1)."""
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
    try:
        der = binascii.a2b_base64(_WHITESPACE.sub("", body).encode("ascii"), strict_mode=True)
        return _rsa_public_key(der)
    except (ValueError, UnicodeEncodeError) as error:  # binascii.Error is a ValueError
        raise ConfigurationError(
            f"WIX_WEBHOOK_PUBLIC_KEY is not an RSA public key in PEM form ({error}; copy it "
            "from the Wix app dashboard, Webhooks page)"
        ) from error


def _rsa_public_key(der: bytes) -> RSAPublicKey:
    """The key of a DER SubjectPublicKeyInfo (RFC 5280 4.1) holding an RSA key (RFC 8017 A.1.1).

    Read here rather than by ``cryptography``'s serialization module, whose import (it brings the
    SSH and cipher modules) was 7 ms of the webhook's cold start (docs/performance.md); the key
    is then built and checked by ``cryptography``. Only the one canonical encoding is accepted.
    """
    info, rest = _der_value(der, 0x30)
    algorithm, info = _der_value(info, 0x30)
    bits, info = _der_value(info, 0x03)
    if rest or info:
        raise ValueError("bytes after the key")
    if algorithm not in {_RSA_ENCRYPTION, _RSA_ENCRYPTION + b"\x05\x00"}:
        raise ValueError("not an RSA key")
    if bits[:1] != b"\x00":
        raise ValueError("the key's bit string has unused bits")
    numbers, rest = _der_value(bits[1:], 0x30)
    modulus, numbers = _der_value(numbers, 0x02)
    exponent, numbers = _der_value(numbers, 0x02)
    if rest or numbers:
        raise ValueError("bytes after the key")
    return RSAPublicNumbers(_der_positive(exponent), _der_positive(modulus)).public_key()


def _der_value(data: bytes, tag: int) -> tuple[bytes, bytes]:
    """The content of the DER value at the start of ``data`` with ``tag``, and what follows it."""
    if len(data) < 2 or data[0] != tag:
        raise ValueError("not the DER expected")
    length, start = data[1], 2
    if length & 0x80:  # the long form: 1 to 4 bytes of length, no leading zero, over 127
        start += length & 0x7F
        if not 3 <= start <= 6 or len(data) < start or data[2] == 0:
            raise ValueError("not a DER length")
        length = int.from_bytes(data[2:start])
        if length < 0x80:
            raise ValueError("not a DER length")
    if len(data) < start + length:
        raise ValueError("the DER is cut short")
    return data[start : start + length], data[start + length :]


def _der_positive(content: bytes) -> int:
    """A DER INTEGER's content that is positive and minimal, as a key's numbers are."""
    if (
        not content
        or content[0] & 0x80
        or (content[:1] == b"\x00" and len(content) > 1 and not content[1] & 0x80)
    ):
        raise ValueError("not a positive DER integer")
    return int.from_bytes(content)


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
