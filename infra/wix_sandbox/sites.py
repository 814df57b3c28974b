"""The sites (app instances) the app is installed on, and the OAuth access tokens issued for them.

Wix issues a token per site with the client credentials grant and takes it back raw in
``Authorization``; every call to Wix's other routes is for the site its token names. What Wix
leaves unsaid here (refusal codes, the "Bearer" prefix, earlier tokens) is in ``unconfirmed``.
"""

from __future__ import annotations

import hmac
import math
import secrets
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from infra.wix_sandbox import errors
from infra.wix_sandbox.clock import Clock
from infra.wix_sandbox.errors import WixApiError, application_error, validation_error
from infra.wix_sandbox.parsing import is_guid, json_object, required_string

ACCESS_TOKEN_PREFIX: Final = "OauthNG.JWS."  # noqa: S105 (how Wix's access tokens start)


@dataclass(frozen=True, slots=True)
class _Token:
    instance_id: str
    expires_at: float


class Sites:
    """Sites and tokens behind one lock; ``installed_at_start`` are there at start and reset."""

    def __init__(
        self,
        *,
        app_id: str,
        app_secret: str,
        token_lifetime_seconds: float,
        installed_at_start: Sequence[str] = (),
        clock: Clock = time.monotonic,
    ) -> None:
        self.app_id = app_id
        self._app_secret = app_secret
        self.token_lifetime_seconds = token_lifetime_seconds
        self._installed_at_start = tuple(installed_at_start)
        self._clock = clock
        self._lock = threading.RLock()
        self._sites: set[str] = set()
        self._tokens: dict[str, _Token] = {}
        self._install_start_sites()

    def create(self, instance_id: str | None = None) -> str:
        instance_id = instance_id or str(uuid.uuid4())
        if not is_guid(instance_id):
            raise validation_error("instanceId", "must be a GUID")
        with self._lock:
            if instance_id in self._sites:
                raise application_error(409, errors.CONFLICT, "the site already exists")
            self._sites.add(instance_id)
        return instance_id

    def remove(self, instance_id: str) -> None:
        """Uninstall the app from a site: no new token for it, and its tokens are refused."""
        with self._lock:
            if instance_id not in self._sites:
                raise application_error(404, errors.NOT_FOUND, "no such site (instanceId)")
            self._sites.discard(instance_id)

    def instance_ids(self) -> list[str]:
        with self._lock:
            return sorted(self._sites)

    def installed(self, instance_id: str) -> bool:
        with self._lock:
            return instance_id in self._sites

    def reset(self) -> None:
        """Forget every site and token, then install the start's sites again."""
        with self._lock:
            self._sites.clear()
            self._tokens.clear()
            self._install_start_sites()

    def issue_token(self, request: object) -> dict[str, Any]:
        """``POST /oauth2/token`` with the client credentials grant."""
        body = json_object(request, "body")
        grant_type, client_id, client_secret, instance_id = (
            required_string(body, name)
            for name in ("grant_type", "client_id", "client_secret", "instance_id")
        )
        if grant_type != "client_credentials":
            raise application_error(
                400, errors.UNSUPPORTED_GRANT_TYPE, "grant_type must be 'client_credentials'"
            )
        if client_id != self.app_id or not hmac.compare_digest(
            client_secret.encode(), self._app_secret.encode()
        ):
            raise application_error(
                401, errors.INVALID_CLIENT, "invalid client_id or client_secret"
            )
        with self._lock:
            if instance_id not in self._sites:
                raise application_error(
                    400, errors.APP_NOT_INSTALLED, "the app is not installed on this instance"
                )
            token = ACCESS_TOKEN_PREFIX + secrets.token_urlsafe(48)
            self._tokens[token] = _Token(instance_id, self._clock() + self.token_lifetime_seconds)
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": math.ceil(self.token_lifetime_seconds),
        }

    def authenticate(self, authorization: str | None) -> str:
        """The instance whose token is in ``Authorization`` (raw, as Wix expects: no "Bearer")."""
        if not authorization:
            raise _unauthenticated("missing Authorization header (send the access token)")
        with self._lock:
            token = self._tokens.get(authorization)
        if token is None:
            if authorization.lower().startswith("bearer "):
                raise _unauthenticated(
                    "send the raw access token in Authorization, without a 'Bearer' prefix"
                )
            raise _unauthenticated("unknown access token")
        if token.expires_at <= self._clock():
            raise _unauthenticated("the access token has expired: request a new one")
        if not self.installed(token.instance_id):
            raise _unauthenticated("the app is not installed on this site any more")
        return token.instance_id

    def instance_of_token(self, authorization: str | None) -> str | None:
        """The instance a token belongs to, expired or not, without judging it (None when
        unknown). Expired tokens are kept for this: a client that goes on with one is still
        calling for its site."""
        with self._lock:
            token = self._tokens.get(authorization or "")
        return token.instance_id if token is not None else None

    def expire_tokens(self, instance_id: str | None = None) -> int:
        """Make tokens expire now (all, or one instance's), to exercise a client's renewal;
        returns how many were still valid."""
        now = self._clock()
        with self._lock:
            valid = [
                (token, record)
                for token, record in self._tokens.items()
                if record.expires_at > now and instance_id in (None, record.instance_id)
            ]
            for token, record in valid:
                self._tokens[token] = _Token(record.instance_id, now)
            return len(valid)

    def _install_start_sites(self) -> None:
        for instance_id in self._installed_at_start:
            self.create(instance_id)


def _unauthenticated(description: str) -> WixApiError:
    return application_error(401, errors.UNAUTHENTICATED, description)
