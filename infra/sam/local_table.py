"""``make dynamodb-local``: DynamoDB Local on a fixed port with the template's OrdersTable, named
as ``infra/env.json`` names it, for the functions ``sam local invoke`` runs.

DynamoDB Local has no listen-address option: it listens on every interface, so containers reach
it at Docker's bridge address of the host as they are.
"""

from __future__ import annotations

import argparse
import signal
import time

from infra.local_stack.dynamodb_local import DynamoDBLocal
from infra.sam.sample_events import LOCAL_TABLE_NAME
from infra.template import create_table_from_template, load_template


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--table", default=LOCAL_TABLE_NAME)
    arguments = parser.parse_args()
    # Stopped by SIGTERM as by Ctrl-C: DynamoDB Local runs in its own session and must go too.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with DynamoDBLocal(arguments.port) as server:
        create_table_from_template(server.client(), load_template(), "OrdersTable", arguments.table)
        print(f"DynamoDB Local on {server.endpoint_url}, table {arguments.table!r} (Ctrl-C stops)")
        try:
            while server.running:
                time.sleep(0.5)
        except KeyboardInterrupt:
            print("stopping DynamoDB Local")


if __name__ == "__main__":
    main()
