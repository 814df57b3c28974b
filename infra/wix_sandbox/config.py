"""What a sandbox starts with: Wix's documented values by default, plus local conveniences."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from infra.wix_sandbox.faults import FaultSpec

LOOPBACK_HOST: Final = "127.0.0.1"
DEFAULT_APP_ID: Final = "5b3e9a52-7c1d-4f0e-8a6b-2d4c6e8f0a1b"
DEFAULT_APP_SECRET: Final = "sandbox-app-secret"  # noqa: S105 (a local default, not a secret)
DEFAULT_TOKEN_LIFETIME_SECONDS: Final = 14_400.0
DEFAULT_RATE_LIMIT_PER_MINUTE: Final = 200
DEFAULT_WEBHOOK_TIMEOUT_SECONDS: Final = 1.25
DEFAULT_CARRIER_PROVIDER: Final = "fedex"
# exp - iat of genuine webhook tokens seen in public (1,000 h).
DEFAULT_WEBHOOK_TOKEN_LIFETIME_SECONDS: Final = 3_600_000.0


def listen_host(host: str) -> str:
    """The sandbox listens on this machine's loopback, or on a private address of its own such as
    Docker's bridge (``172.17.0.1``), where containers reach the host; never on every interface."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"listen host {host!r}: an IP address, such as 127.0.0.1") from None
    if address.is_unspecified or not (address.is_loopback or address.is_private):
        raise ValueError(
            f"listen host {host}: must be a loopback or private address of this machine"
        )
    return host


@dataclass(frozen=True)
class SandboxConfig:
    """Settings fixed at start; the control API changes some of them at run time.

    ``resend_compression`` divides Wix's webhook resend schedule (3600 turns its first minute into
    1/60 s). ``rate_limit_window_seconds`` stays 60 for Wix's "per minute" and is shorter only to
    watch a limit recover in a sandbox process (in-process tests step a ``ManualClock``).
    ``private_key_pem`` None means a fresh RSA key pair at start. ``webhook_token_lifetime_seconds``
    None signs webhooks without ``exp``; ``webhook_pretty_json`` False writes their nested JSON
    compact instead of as Wix does.
    """

    port: int = 0
    host: str = LOOPBACK_HOST
    app_id: str = DEFAULT_APP_ID
    app_secret: str = DEFAULT_APP_SECRET
    token_lifetime_seconds: float = DEFAULT_TOKEN_LIFETIME_SECONDS
    rate_limit_per_minute: int = DEFAULT_RATE_LIMIT_PER_MINUTE
    rate_limit_window_seconds: float = 60.0
    webhook_url: str | None = None
    webhook_timeout_seconds: float = DEFAULT_WEBHOOK_TIMEOUT_SECONDS
    webhook_token_lifetime_seconds: float | None = DEFAULT_WEBHOOK_TOKEN_LIFETIME_SECONDS
    webhook_pretty_json: bool = True
    resend_compression: float = 1.0
    private_key_pem: bytes | None = None
    fault_seed: int = 0
    faults: Mapping[str, FaultSpec] = field(default_factory=dict)
    carrier_provider: str = DEFAULT_CARRIER_PROVIDER
    sites: tuple[str, ...] = ()
    verbose: bool = False
