"""Print an order's fulfillments as Wix's List Fulfillments For Single Order returns them.

    wix-fulfillment list --instance-id <site instance> --order-id <order>

Credentials and the API come from the same settings the worker uses (``WIX_APP_ID``,
``WIX_APP_SECRET`` or ``WIX_APP_SECRET_ARN``, ``WIX_API_BASE_URL``), or from the flags.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from wix_fulfillment.adapters.app_secret import app_secret_reader
from wix_fulfillment.adapters.settings import DEFAULT_WIX_API_BASE_URL, ConfigurationError
from wix_fulfillment.adapters.wix_fulfillments import WixFulfillmentsClient
from wix_fulfillment.adapters.wix_tokens import WixCredentials
from wix_fulfillment.core.model import WixUnavailable

COMMAND_SECONDS = 60.0


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance-id", required=True, help="the Wix site's app instance id")
    parser.add_argument("--order-id", required=True)
    parser.add_argument("--app-id", default=os.environ.get("WIX_APP_ID"))
    parser.add_argument("--app-secret", default=os.environ.get("WIX_APP_SECRET"))
    parser.add_argument("--app-secret-arn", default=os.environ.get("WIX_APP_SECRET_ARN"))
    parser.add_argument(
        "--base-url", default=os.environ.get("WIX_API_BASE_URL") or DEFAULT_WIX_API_BASE_URL
    )
    arguments = parser.parse_args(argv)
    if not arguments.app_id:
        parser.error("give --app-id or set WIX_APP_ID")
    started = time.monotonic()
    try:
        credentials = WixCredentials(
            arguments.app_id, app_secret_reader(arguments.app_secret, arguments.app_secret_arn)
        )
        client = WixFulfillmentsClient(
            arguments.base_url,
            credentials,
            lambda: COMMAND_SECONDS - (time.monotonic() - started),
        )
        listing = client.list_fulfillments(arguments.instance_id, arguments.order_id)
    except (ConfigurationError, WixUnavailable) as error:
        print(f"list-fulfillments: {error}", file=sys.stderr)
        return 1
    print(json.dumps(listing, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
