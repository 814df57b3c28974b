"""``python -m infra.wix_sandbox --port N``: serve the Wix sandbox in the foreground until stopped.

The first line printed is ``Wix sandbox on http://<host>:<port>`` (with ``--port 0`` the port
is a free one), which is how ``SandboxProcess`` learns where it listens. SIGTERM or Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from infra.service import serve_in_foreground
from infra.wix_sandbox.config import (
    DEFAULT_APP_ID,
    DEFAULT_APP_SECRET,
    DEFAULT_CARRIER_PROVIDER,
    DEFAULT_RATE_LIMIT_PER_MINUTE,
    DEFAULT_TOKEN_LIFETIME_SECONDS,
    DEFAULT_WEBHOOK_TIMEOUT_SECONDS,
    DEFAULT_WEBHOOK_TOKEN_LIFETIME_SECONDS,
    LOOPBACK_HOST,
    SandboxConfig,
    listen_host,
)
from infra.wix_sandbox.errors import WixApiError
from infra.wix_sandbox.faults import parse_fault_plan
from infra.wix_sandbox.sandbox import WixSandbox
from infra.wix_sandbox.webhooks import loopback_webhook_url


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m infra.wix_sandbox", description="A local stand-in for the Wix APIs."
    )
    add = parser.add_argument
    add("--port", type=int, default=0, help="port to listen on (0: a free one; default 0)")
    add(
        "--host",
        default=LOOPBACK_HOST,
        help="address to listen on: 127.0.0.1 (default), or one of this machine's private "
        "addresses, such as Docker's bridge (172.17.0.1) for sam local's containers",
    )
    add("--app-id", default=DEFAULT_APP_ID, help="the app's client_id")
    add("--app-secret", default=DEFAULT_APP_SECRET, help="the app's client_secret")
    add("--token-lifetime", type=float, default=DEFAULT_TOKEN_LIFETIME_SECONDS, metavar="SECONDS")
    add("--rate-limit", type=int, default=DEFAULT_RATE_LIMIT_PER_MINUTE, metavar="PER_MINUTE")
    add("--rate-limit-window", type=float, default=60.0, metavar="SECONDS")
    add("--webhook-url", help="where the webhooks go (a loopback http:// URL)")
    add("--webhook-timeout", type=float, default=DEFAULT_WEBHOOK_TIMEOUT_SECONDS, metavar="SECONDS")
    add(
        "--webhook-token-lifetime",
        type=float,
        default=DEFAULT_WEBHOOK_TOKEN_LIFETIME_SECONDS,
        metavar="SECONDS",
        help="exp - iat of the webhooks' tokens (default 3600000, as Wix's; 0: no exp at all)",
    )
    add(
        "--compact-webhook-json",
        action="store_true",
        help="write the webhooks' nested JSON compact (Wix pretty-prints it)",
    )
    add(
        "--resend-compression",
        type=float,
        default=1.0,
        metavar="FACTOR",
        help="divide Wix's webhook resend schedule by this (3600: 1 min becomes 1/60 s)",
    )
    add("--private-key", type=Path, help="PEM RSA private key to sign webhooks (default: new)")
    add("--fault-seed", type=int, default=0)
    add(
        "--faults",
        default="{}",
        metavar="JSON",
        help='per-endpoint faults, e.g. \'{"create": {"errorRate": 0.1, "latencyMs": 50}}\'',
    )
    add("--carrier-provider", default=DEFAULT_CARRIER_PROVIDER)
    add("--site", action="append", default=[], metavar="INSTANCE_ID", help="create this site")
    add("--verbose", action="store_true", help="log every request to stderr")
    return parser


def config_from_arguments(arguments: argparse.Namespace) -> SandboxConfig:
    """The configuration the arguments describe; WixApiError/ValueError name a bad argument."""
    return SandboxConfig(
        port=arguments.port,
        host=listen_host(arguments.host),
        app_id=arguments.app_id,
        app_secret=arguments.app_secret,
        token_lifetime_seconds=arguments.token_lifetime,
        rate_limit_per_minute=arguments.rate_limit,
        rate_limit_window_seconds=arguments.rate_limit_window,
        webhook_url=None
        if arguments.webhook_url is None
        else loopback_webhook_url(arguments.webhook_url),
        webhook_timeout_seconds=arguments.webhook_timeout,
        webhook_token_lifetime_seconds=arguments.webhook_token_lifetime or None,
        webhook_pretty_json=not arguments.compact_webhook_json,
        resend_compression=arguments.resend_compression,
        private_key_pem=None
        if arguments.private_key is None
        else arguments.private_key.read_bytes(),
        fault_seed=arguments.fault_seed,
        faults=parse_fault_plan(json.loads(arguments.faults)),
        carrier_provider=arguments.carrier_provider,
        sites=tuple(arguments.site),
        verbose=arguments.verbose,
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    try:
        config = config_from_arguments(arguments)
    except WixApiError as error:
        parser.error(error.description)
    except (ValueError, OSError) as error:
        parser.error(str(error))

    def on_started(sandbox: WixSandbox) -> None:
        print(f"Wix sandbox on {sandbox.base_url}", flush=True)
        print(f"  app id {sandbox.app_id}; public key at {sandbox.base_url}/_sandbox/public-key")
        print(
            f"  webhooks to {config.webhook_url or '(none: PATCH /_sandbox/config)'}, "
            f"resend schedule / {config.resend_compression:g}; sites: {', '.join(config.sites)}"
        )
        print("  Ctrl-C stops", flush=True)

    serve_in_foreground(WixSandbox(config), on_started)
    print("Wix sandbox stopped", flush=True)


if __name__ == "__main__":
    main()
