"""``make dynamodb-local``: DynamoDB Local on a fixed port with the template's OrdersTable, named
as ``infra/env.json`` names it, for the functions ``sam local invoke`` runs.

DynamoDB Local has no listen-address option: it listens on every interface, so containers reach
it at Docker's bridge address of the host as they are.
"""

from __future__ import annotations

import argparse

from infra.local_stack.dynamodb_local import DynamoDBLocal
from infra.sam.sample_events import LOCAL_TABLE_NAME
from infra.service import serve_in_foreground
from infra.template import create_table_from_template, load_template


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--table", default=LOCAL_TABLE_NAME)
    arguments = parser.parse_args()

    def on_started(server: DynamoDBLocal) -> None:
        create_table_from_template(server.client(), load_template(), "OrdersTable", arguments.table)
        print(f"DynamoDB Local on {server.endpoint_url}, table {arguments.table!r} (Ctrl-C stops)")

    serve_in_foreground(DynamoDBLocal(arguments.port), on_started, lambda server: server.running)
    print("DynamoDB Local stopped")


if __name__ == "__main__":
    main()
