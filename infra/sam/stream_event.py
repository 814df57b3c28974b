"""``python -m infra.sam.stream_event``: the event Lambda's stream mapping would hand
FulfillmentFunction, read from DynamoDB Local's stream of the orders table
(``make dynamodb-local``), for ``sam local invoke FulfillmentFunction --event``.

``sam local invoke`` knows nothing of streams or of the template's filters: this prints the
stream's records that the mapping's filters let through, oldest first, in Lambda's shape.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from infra.local_stack.dynamodb_local import local_client, local_streams_client
from infra.local_stack.dynamodb_stream import StreamReader, lambda_stream_event
from infra.local_stack.event_filter import matches_any
from infra.local_stack.wiring import read_wiring
from infra.sam.sample_events import LOCAL_TABLE_NAME
from infra.template import load_template

LOCAL_DYNAMODB = "http://127.0.0.1:8000"
FUNCTION_ID = "FulfillmentFunction"


def stream_event(endpoint_url: str, table_name: str, order_id: str | None = None) -> dict[str, Any]:
    """What the stream mapping would deliver now (every record since the stream began)."""
    [mapping] = [
        mapping
        for mapping in read_wiring(load_template()).stream_mappings
        if mapping.function_id == FUNCTION_ID
    ]
    reader = StreamReader(
        local_client(endpoint_url), local_streams_client(endpoint_url), table_name
    )
    records = [
        record
        for record in reader.read()
        if matches_any(mapping.filter_patterns, record)
        and (order_id is None or record["dynamodb"]["Keys"]["pk"]["S"].endswith(f"#{order_id}"))
    ]
    return lambda_stream_event(records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--endpoint-url", default=LOCAL_DYNAMODB)
    parser.add_argument("--table", default=LOCAL_TABLE_NAME)
    parser.add_argument("--order-id", help="only this order's records")
    arguments = parser.parse_args()
    event = stream_event(arguments.endpoint_url, arguments.table, arguments.order_id)
    print(json.dumps(event, indent=2))


if __name__ == "__main__":
    main()
