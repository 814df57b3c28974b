"""Calls to Wix as the app on one site: an OAuth access token per site instance, cached until
shortly before it expires, and asked for again once when Wix says it is no longer valid."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from wix_fulfillment.adapters.wix_transport import WixRequestFailed, WixTransport
from wix_fulfillment.core.model import AppSecretNotSet, WixUnavailable

TOKEN_REFRESH_MARGIN_SECONDS: Final = 300


class TokenUnavailable(WixUnavailable):
    """No access token for the site (Wix or the app's settings said no): never a verdict on an
    order, so never read as one."""


@dataclass
class _CachedToken:
    value: str
    valid_until: float


@dataclass
class TokenCache:
    """Access tokens per site instance; one per execution environment, so warm invocations
    reuse them."""

    tokens: dict[str, _CachedToken] = field(default_factory=dict)

    def get(self, instance_id: str, now: float) -> str | None:
        cached = self.tokens.get(instance_id)
        return cached.value if cached and cached.valid_until > now else None

    def forget(self, instance_id: str) -> None:
        self.tokens.pop(instance_id, None)

    def put(self, instance_id: str, token: str, expires_in: float, now: float) -> None:
        self.tokens[instance_id] = _CachedToken(
            token, now + max(expires_in - TOKEN_REFRESH_MARGIN_SECONDS, 0)
        )


@dataclass(frozen=True)
class WixCredentials:
    app_id: str
    app_secret: Callable[[], str]
    """Called when a token is needed, so a rotated secret is picked up through its own cache."""


class WixSession:
    def __init__(
        self, transport: WixTransport, credentials: WixCredentials, tokens: TokenCache
    ) -> None:
        self._transport = transport
        self._credentials = credentials
        self._tokens = tokens

    def call(
        self,
        instance_id: str,
        method: str,
        path: str,
        body: Mapping[str, Any] | None,
        *,
        creates: bool = False,
    ) -> dict[str, Any]:
        for fresh_token in (False, True):
            if fresh_token:
                self._tokens.forget(instance_id)
            headers = {
                "Authorization": self._access_token(instance_id),
                "Content-Type": "application/json",
            }
            try:
                return self._transport.send(method, path, body, headers, creates=creates)
            except WixRequestFailed as error:
                # A revoked or expired token: Wix did nothing; ask for a new one, once.
                if error.status != 401 or fresh_token:
                    raise
        raise AssertionError("unreachable: the second try returns or raises")

    def _access_token(self, instance_id: str) -> str:
        cached = self._tokens.get(instance_id, time.monotonic())
        if cached:
            return cached
        try:
            answer = self._transport.send(
                "POST",
                "/oauth2/token",
                {
                    "grant_type": "client_credentials",
                    "client_id": self._credentials.app_id,
                    "client_secret": self._credentials.app_secret(),
                    "instance_id": instance_id,
                },
                {"Content-Type": "application/json"},
                creates=False,
            )
            token = answer["access_token"]
            expires_in = float(answer.get("expires_in", 0))
        except AppSecretNotSet:
            raise
        except WixUnavailable as error:
            raise TokenUnavailable(f"no access token: {error}") from error
        except (KeyError, TypeError, ValueError) as error:
            raise TokenUnavailable(f"unexpected token answer: {error!r}") from error
        if not isinstance(token, str) or not token:
            raise TokenUnavailable("the token answer had no access_token")
        self._tokens.put(instance_id, token, expires_in, time.monotonic())
        return token
