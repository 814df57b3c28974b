"""Redrive: send the orders of dead-lettered stream batches through the worker again.

    wix-fulfillment redrive --table <OrdersTable name> --queue-url <DLQ URL>   # in AWS
    wix-fulfillment redrive --local                                           # make local

A dead letter names a batch by its place in the stream (shard, first and last sequence number),
not by its orders, so the batch's records are read back from the stream (DynamoDB keeps them 24
hours) and each order still PENDING gets the redrive marker, which the stream filter picks up.
Settled orders are left alone. Messages are removed once their orders are marked. Run it after
the cause is fixed (see docs/operations.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import boto3

from infra.local_stack.dynamodb_local import local_client, local_streams_client
from infra.local_stack.stack import WORK_DIR
from wix_fulfillment.adapters.redrive_marker import mark_for_redrive

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodbstreams.client import DynamoDBStreamsClient
    from mypy_boto3_sqs.client import SQSClient

LOCAL_DEAD_LETTERS: Final = WORK_DIR / "dead-letters" / "FulfillmentDeadLetterQueue.jsonl"
LOCAL_DYNAMODB: Final = "http://127.0.0.1:8000"
LOCAL_TABLE: Final = "OrdersTable"


@dataclass(frozen=True)
class DeadLetter:
    batch: dict[str, Any]
    """The message's DDBStreamBatchInfo."""
    receipt: str | None
    """SQS's receipt handle, to delete the message; None for the local file."""


def batch_keys(streams: DynamoDBStreamsClient, batch: dict[str, Any]) -> list[str]:
    """The keys of the orders in a dead-lettered batch, read back from the stream."""
    start, end = int(batch["startSequenceNumber"]), int(batch["endSequenceNumber"])
    iterator: str | None = streams.get_shard_iterator(
        StreamArn=batch["streamArn"],
        ShardId=batch["shardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=batch["startSequenceNumber"],
    )["ShardIterator"]
    keys: list[str] = []
    while iterator:
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        for record in page["Records"]:
            change = record["dynamodb"]
            if int(change["SequenceNumber"]) > end:
                return keys
            if int(change["SequenceNumber"]) >= start:
                keys.append(change["Keys"]["pk"]["S"])
        if not page["Records"]:
            return keys
        iterator = page.get("NextShardIterator")
    return keys


def redrive(
    dead_letters: list[DeadLetter],
    dynamodb: DynamoDBClient,
    streams: DynamoDBStreamsClient,
    table: str,
) -> Counter[str]:
    outcome: Counter[str] = Counter()
    for letter in dead_letters:
        for key in dict.fromkeys(batch_keys(streams, letter.batch)):
            outcome["marked" if mark_for_redrive(dynamodb, table, key) else "left alone"] += 1
        outcome["messages"] += 1
    return outcome


def file_dead_letters(path: Path) -> list[DeadLetter]:
    if not path.exists():
        return []
    return [
        DeadLetter(json.loads(line)["DDBStreamBatchInfo"], None)
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def queue_dead_letters(sqs: SQSClient, queue_url: str) -> Iterator[DeadLetter]:
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=300
        ).get("Messages", [])
        if not messages:
            return
        for message in messages:
            yield DeadLetter(
                json.loads(message["Body"])["DDBStreamBatchInfo"], message["ReceiptHandle"]
            )


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    parser.add_argument("--local", action="store_true", help="the local stack's (make local)")
    parser.add_argument("--table", help="the orders table (the stack's OrdersTableName output)")
    parser.add_argument("--queue-url", help="the DLQ (the FulfillmentDeadLetterQueueUrl output)")
    parser.add_argument("--dead-letter-file", type=Path, help="a local dead-letter file")
    parser.add_argument("--endpoint-url", help="a DynamoDB Local (its streams on the same port)")
    arguments = parser.parse_args(argv)
    if arguments.local:
        arguments.table = arguments.table or LOCAL_TABLE
        arguments.dead_letter_file = arguments.dead_letter_file or LOCAL_DEAD_LETTERS
        arguments.endpoint_url = arguments.endpoint_url or LOCAL_DYNAMODB
    if not arguments.table or not (arguments.queue_url or arguments.dead_letter_file):
        parser.error("give --table and --queue-url (or --dead-letter-file), or --local")
    if arguments.endpoint_url:
        dynamodb = local_client(arguments.endpoint_url)
        streams = local_streams_client(arguments.endpoint_url)
    else:
        dynamodb = boto3.client("dynamodb")
        streams = boto3.client("dynamodbstreams")
    if arguments.queue_url:
        sqs = boto3.client("sqs")
        outcome: Counter[str] = Counter()
        for letter in queue_dead_letters(sqs, arguments.queue_url):
            outcome += redrive([letter], dynamodb, streams, arguments.table)
            assert letter.receipt is not None
            sqs.delete_message(QueueUrl=arguments.queue_url, ReceiptHandle=letter.receipt)
    else:
        letters = file_dead_letters(arguments.dead_letter_file)
        outcome = redrive(letters, dynamodb, streams, arguments.table)
        arguments.dead_letter_file.unlink(missing_ok=True)
    print(
        f"redrive: {outcome['messages']} dead letters, {outcome['marked']} orders marked for the"
        f" stream again, {outcome['left alone']} already settled or marked"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
