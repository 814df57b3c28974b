"""An order's status from the command line: our record and Wix's fulfillments, through the
stack's IAM-authorized ``GET /orders/{orderId}/fulfillments`` (signed with your AWS credentials).

    wix-fulfillment status --url <OrderStatusUrl output> --instance-id <site> --order-id <id>
    wix-fulfillment status --local --instance-id <site> --order-id <id>   # make local
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Final
from urllib.parse import quote, urlencode

import boto3
import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

LOCAL_URL: Final = "http://127.0.0.1:3000/orders"


def order_status(
    base_url: str, instance_id: str, order_id: str, credentials: Credentials, region: str
) -> tuple[int, dict[str, Any]]:
    url = f"{base_url.rstrip('/')}/{quote(order_id, safe='')}/fulfillments?" + urlencode(
        {"instanceId": instance_id}
    )
    request = AWSRequest(method="GET", url=url)
    SigV4Auth(credentials, "execute-api", region).add_auth(request)
    response = urllib3.request("GET", url, headers=dict(request.headers.items()), timeout=30)
    try:
        body = response.json()
    except ValueError:
        body = {"error": response.data.decode(errors="replace")[:500]}
    return response.status, body


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="the stack's OrderStatusUrl output")
    parser.add_argument("--local", action="store_true", help=f"the local stack ({LOCAL_URL})")
    parser.add_argument("--instance-id", required=True)
    parser.add_argument("--order-id", required=True)
    arguments = parser.parse_args(argv)
    if arguments.local:
        url, credentials, region = LOCAL_URL, Credentials("local", "local"), "us-east-1"
    elif arguments.url:
        session = boto3.session.Session()
        found = session.get_credentials()
        if found is None or session.region_name is None:
            parser.error("no AWS credentials or region: configure them (aws configure)")
        url, credentials, region = arguments.url, found, session.region_name
    else:
        parser.error("give --url (the OrderStatusUrl output) or --local")
    status, body = order_status(url, arguments.instance_id, arguments.order_id, credentials, region)
    print(json.dumps(body, indent=2))
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
