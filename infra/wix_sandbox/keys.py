"""The sandbox's webhook signing key pair: Wix's private key stands in, the public key is served."""

from __future__ import annotations

from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def load_or_generate_private_key(private_key_pem: bytes | None) -> rsa.RSAPrivateKey:
    if private_key_pem is None:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _parsed_private_key(private_key_pem)


@lru_cache(maxsize=4)
def _parsed_private_key(private_key_pem: bytes) -> rsa.RSAPrivateKey:
    """Parsing validates the key, which is slow; sandboxes started again with one key parse it
    once."""
    key = serialization.load_pem_private_key(private_key_pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the webhook signing key must be an RSA private key (RS256)")
    return key


def public_key_pem(private_key: rsa.RSAPrivateKey) -> str:
    """SPKI PEM, the form Wix's app dashboard shows and the webhook intake is configured with."""
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
