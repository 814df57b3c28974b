"""The bad-input corpus (bad_inputs.py) against WebhookFunction and DynamoDB Local.

Each crafted delivery gets its documented status, never a 5xx (Wix would retry a bad delivery for
two days), writes nothing, and is answered with short JSON that names no internals and repeats
none of the request's values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support.bad_inputs import BadInput, corpus
from tests.support.lambda_functions import Handler
from tests.support.webhooks import KeyPair, all_items, safe_answer

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

pytestmark = pytest.mark.integration

CORPUS = corpus()


def test_the_corpus_covers_every_answer_but_storage_failure() -> None:
    assert len(CORPUS) >= 30
    assert {case.status for case in CORPUS} == {200, 400, 401, 413}


@pytest.mark.parametrize("case", CORPUS, ids=[case.name for case in CORPUS])
def test_a_bad_delivery_gets_its_status_and_writes_nothing(
    webhook_handler: Handler,
    webhook_keys: KeyPair,
    other_keys: KeyPair,
    dynamodb: DynamoDBClient,
    orders_table: str,
    case: BadInput,
) -> None:
    event = case.deliver(webhook_keys, other_keys).event()

    status, body = safe_answer(webhook_handler(event, None))

    assert status == case.status
    if status == 200:
        assert body == {"status": "ignored"}
    assert all_items(dynamodb, orders_table) == []
