"""Read a table's stream on DynamoDB Local and shape its records as Lambda receives them.

Lambda's event source mapping hands a function ``{"Records": [...]}`` whose records are the
stream's records plus ``eventSourceARN``, with ``ApproximateCreationDateTime`` in epoch seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodbstreams.client import DynamoDBStreamsClient
    from mypy_boto3_dynamodbstreams.type_defs import RecordTypeDef


class StreamReader:
    """Follows every shard of a table's stream from its start (``TRIM_HORIZON``)."""

    def __init__(
        self, dynamodb: DynamoDBClient, streams: DynamoDBStreamsClient, table_name: str
    ) -> None:
        stream_arn = dynamodb.describe_table(TableName=table_name)["Table"].get("LatestStreamArn")
        if not stream_arn:
            raise ValueError(f"table {table_name} has no stream")
        self.stream_arn = stream_arn
        self._streams = streams
        self._iterators: dict[str, str | None] = {}
        self._shards: dict[str, str] = {}

    def read(self) -> list[dict[str, Any]]:
        """Records written since the last read, oldest first, in Lambda's shape."""
        self._discover_shards()
        records: list[dict[str, Any]] = []
        for shard_id, iterator in list(self._iterators.items()):
            while iterator:
                page = self._streams.get_records(ShardIterator=iterator, Limit=1000)
                for record in page["Records"]:
                    self._shards[record["dynamodb"]["SequenceNumber"]] = shard_id
                    records.append(lambda_record(record, self.stream_arn))
                next_iterator = page.get("NextShardIterator")
                if not page["Records"] or next_iterator == iterator:
                    iterator = next_iterator
                    break
                iterator = next_iterator
            self._iterators[shard_id] = iterator
        return sorted(records, key=lambda record: int(record["dynamodb"]["SequenceNumber"]))

    def shard_of(self, sequence_number: str) -> str:
        """The shard a record came from (Lambda's records do not say; its DLQ messages do)."""
        return self._shards[sequence_number]

    def _discover_shards(self) -> None:
        description = self._streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        for shard in description.get("Shards", []):
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self._streams.get_shard_iterator(
                    StreamArn=self.stream_arn,
                    ShardId=shard_id,
                    ShardIteratorType="TRIM_HORIZON",
                )["ShardIterator"]


def lambda_record(record: RecordTypeDef | Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    shaped: dict[str, Any] = {**record, "eventSourceARN": stream_arn}
    change = dict(shaped["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = int(created.timestamp())
    shaped["dynamodb"] = change
    return shaped


def lambda_stream_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": records}
