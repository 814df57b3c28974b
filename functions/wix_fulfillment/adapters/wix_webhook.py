"""Wix webhook verification: the body is a JWT signed RS256 with the app's key at Wix.

Wix publishes no JWKS for webhooks; the app's public key is copied from the Wix app dashboard
into configuration. The algorithm is pinned, so neither ``alg: none`` nor an HS256 token
"signed" with the public key's bytes can pass.
"""

from __future__ import annotations

import re
from typing import Any, Final

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from wix_fulfillment.adapters.settings import ConfigurationError

CLOCK_LEEWAY_SECONDS: Final = 60
_PEM_HEADER: Final = "-----BEGIN PUBLIC KEY-----"
_PEM_FOOTER: Final = "-----END PUBLIC KEY-----"
_WHITESPACE: Final = re.compile(r"\s+")


class InvalidToken(Exception):
    """The body is not a JWT that Wix signed for this app and that is still valid (answered 401)."""


def load_webhook_public_key(text: str) -> RSAPublicKey:
    """Accept the key as Wix's dashboard shows it, or as it survives a one-line setting.

    A PEM pasted into a CloudFormation parameter or a .env file often arrives on one line, with
    literal ``\\n`` sequences, or without its header; all of those mean the same key.
    """
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


class WebhookVerifier:
    def __init__(self, public_key: RSAPublicKey) -> None:
        self._public_key = public_key

    def verified_claims(self, token: bytes) -> dict[str, Any]:
        """The token's claims, once its RS256 signature and expiry check out."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._public_key,
                algorithms=["RS256"],
                leeway=CLOCK_LEEWAY_SECONDS,
                # As Wix's own SDK verifies: signature and expiry. An audience Wix might add,
                # or its clock running ahead of ours, must not turn every delivery into a 401.
                options={"require": ["exp"], "verify_aud": False, "verify_iat": False},
            )
        except jwt.PyJWTError as error:
            raise InvalidToken(str(error)) from error
        return claims
