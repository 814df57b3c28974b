"""Read ``template.yaml``, the single source of truth for the stack, so local tools restate nothing.

CloudFormation's short-form tags (``!Ref``, ``!GetAtt``, ``!Sub`` ...) are read into their long
form (``{"Ref": ...}``), as CloudFormation itself would.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import yaml

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import CreateTableInputTypeDef

TEMPLATE_PATH: Final = Path(__file__).resolve().parent.parent / "template.yaml"


class _CloudFormationLoader(yaml.SafeLoader):
    """A safe YAML loader that also understands CloudFormation's short-form intrinsic tags."""


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    name = tag_suffix if tag_suffix in {"Ref", "Condition"} else f"Fn::{tag_suffix}"
    return {name: value}


_CloudFormationLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    with path.open(encoding="utf-8") as stream:
        template = yaml.load(stream, Loader=_CloudFormationLoader)  # noqa: S506 (safe loader subclass)
    if not isinstance(template, dict) or "Resources" not in template:
        raise ValueError(f"{path} is not a CloudFormation template")
    return template


def resource_properties(template: Mapping[str, Any], logical_id: str) -> Mapping[str, Any]:
    try:
        properties: Mapping[str, Any] = template["Resources"][logical_id]["Properties"]
    except KeyError as error:
        raise KeyError(f"template has no resource {logical_id!r} with Properties") from error
    return properties


def create_table_request(
    template: Mapping[str, Any], logical_id: str, table_name: str
) -> CreateTableInputTypeDef:
    """The CreateTable call that gives a local table the template's keys, billing and stream."""
    properties = resource_properties(template, logical_id)
    request: CreateTableInputTypeDef = {
        "TableName": table_name,
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "BillingMode": properties.get("BillingMode", "PROVISIONED"),
    }
    if request["BillingMode"] == "PROVISIONED":
        request["ProvisionedThroughput"] = properties["ProvisionedThroughput"]
    stream = properties.get("StreamSpecification")
    if stream:
        request["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": stream["StreamViewType"],
        }
    return request


def create_table_from_template(
    client: DynamoDBClient, template: Mapping[str, Any], logical_id: str, table_name: str
) -> None:
    """Create the table and switch on its TTL, both as the template defines them."""
    client.create_table(**create_table_request(template, logical_id, table_name))
    client.get_waiter("table_exists").wait(
        TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    ttl = resource_properties(template, logical_id).get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        client.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
        )
