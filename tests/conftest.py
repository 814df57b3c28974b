"""Shared fixtures: DynamoDB Local for the session, a fresh table per test, signing keys."""

from __future__ import annotations

import importlib
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pytest

from infra.local_stack.dynamodb_local import DynamoDBLocal
from infra.template import create_table_from_template, load_template
from tests.support.lambda_functions import ColdStart, Handler
from tests.support.webhooks import KeyPair

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

WEBHOOK_HANDLER_MODULE = "wix_fulfillment.handlers.webhook"


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="session")
def webhook_keys() -> KeyPair:
    return KeyPair.generate()


@pytest.fixture(scope="session")
def other_keys() -> KeyPair:
    return KeyPair.generate()


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[DynamoDBLocal]:
    with DynamoDBLocal() as server:
        yield server


@pytest.fixture(scope="session")
def dynamodb(dynamodb_local: DynamoDBLocal) -> DynamoDBClient:
    return dynamodb_local.client()


@pytest.fixture
def orders_table(dynamodb: DynamoDBClient, template: dict[str, Any]) -> Iterator[str]:
    """A new table made from template.yaml's OrdersTable definition, dropped after the test."""
    name = f"orders-{uuid.uuid4().hex[:12]}"
    create_table_from_template(dynamodb, template, "OrdersTable", name)
    yield name
    dynamodb.delete_table(TableName=name)


@pytest.fixture
def aws_local_env(monkeypatch: pytest.MonkeyPatch, dynamodb_local: DynamoDBLocal) -> None:
    """The environment a function gets locally: DynamoDB Local, dummy credentials."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_local.endpoint_url)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")


@pytest.fixture
def cold_start(monkeypatch: pytest.MonkeyPatch, aws_local_env: None) -> ColdStart:
    """Import a handler as a new execution environment would: modules afresh, given environment.

    The named modules are re-imported in order (module-level state such as connection pools and
    token caches lives there); the handler is the last one's ``handler``.
    """

    def start(modules: Sequence[str], environment: Mapping[str, str]) -> Handler:
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        module = None
        for name in modules:
            if name in sys.modules:
                module = importlib.reload(sys.modules[name])
            else:
                module = importlib.import_module(name)
        handler: Handler = module.handler  # type: ignore[union-attr]
        return handler

    return start


@pytest.fixture
def load_webhook_handler(
    cold_start: ColdStart, orders_table: str, webhook_keys: KeyPair
) -> Callable[..., Handler]:
    """The deployed webhook handler, cold-started; keyword arguments override its environment."""

    def load(**environment: str) -> Handler:
        defaults = {"TABLE_NAME": orders_table, "WIX_WEBHOOK_PUBLIC_KEY": webhook_keys.public_pem}
        return cold_start([WEBHOOK_HANDLER_MODULE], defaults | environment)

    return load


@pytest.fixture
def webhook_handler(load_webhook_handler: Callable[..., Handler]) -> Handler:
    return load_webhook_handler()
