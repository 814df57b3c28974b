"""The stack's wiring, read from template.yaml: functions, HTTP routes, tables, stream mappings,
schedules.

Nothing here restates the template: change a route, a filter or a batch size there and the local
stack follows. Template features the local stack cannot honour raise ``UnsupportedTemplate``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from infra.template import resource_properties

DEFAULT_TIMEOUT_SECONDS: Final = 3
DEFAULT_BATCH_SIZE: Final = 100
DEFAULT_MAXIMUM_RETRY_ATTEMPTS: Final = -1  # infinite, as in AWS
DEFAULT_MAXIMUM_RECORD_AGE_SECONDS: Final = -1  # infinite, as in AWS


class UnsupportedTemplate(ValueError):
    """The template asks for something the local stack does not emulate; the message says what."""


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    logical_id: str
    handler: str
    timeout_seconds: float
    environment: Mapping[str, Any]
    """As declared: literal values, or intrinsics (``{"Ref": ...}``) the stack resolves."""


@dataclass(frozen=True, slots=True)
class Route:
    function_id: str
    method: str
    path: str
    authorization: str | None

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """The path parameters when this route serves the request, else None."""
        if method.upper() != self.method and self.method != "ANY":
            return None
        pattern = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(self.path))
        found = re.fullmatch(pattern, path)
        return found.groupdict() if found else None


@dataclass(frozen=True, slots=True)
class StreamMapping:
    function_id: str
    table_id: str
    batch_size: int
    batching_window_seconds: float
    maximum_retry_attempts: int
    maximum_record_age_seconds: int
    bisect_on_error: bool
    report_batch_item_failures: bool
    filter_patterns: tuple[Mapping[str, Any], ...]
    on_failure_destination: str | None
    """The logical id of the on-failure destination (an SQS queue), if any."""


@dataclass(frozen=True, slots=True)
class Schedule:
    """A Schedule event: EventBridge invokes the function every ``interval_seconds``."""

    function_id: str
    event_id: str
    interval_seconds: float


@dataclass(frozen=True, slots=True)
class StackWiring:
    functions: Mapping[str, FunctionSpec]
    routes: tuple[Route, ...]
    tables: tuple[str, ...]
    stream_mappings: tuple[StreamMapping, ...]
    schedules: tuple[Schedule, ...] = ()


def read_wiring(template: Mapping[str, Any]) -> StackWiring:
    globals_ = template.get("Globals", {}).get("Function", {})
    functions: dict[str, FunctionSpec] = {}
    routes: list[Route] = []
    mappings: list[StreamMapping] = []
    schedules: list[Schedule] = []
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = resource_properties(template, logical_id)
        functions[logical_id] = FunctionSpec(
            logical_id=logical_id,
            handler=properties["Handler"],
            timeout_seconds=float(
                properties.get("Timeout", globals_.get("Timeout", DEFAULT_TIMEOUT_SECONDS))
            ),
            environment={
                **globals_.get("Environment", {}).get("Variables", {}),
                **properties.get("Environment", {}).get("Variables", {}),
            },
        )
        for event_id, event in properties.get("Events", {}).items():
            event_properties = event.get("Properties", {})
            if event["Type"] == "HttpApi":
                routes.append(_route(logical_id, event_properties))
            elif event["Type"] == "DynamoDB":
                mappings.append(_stream_mapping(logical_id, event_properties))
            elif event["Type"] == "Schedule":
                expression = _parameter_default(template, event_properties["Schedule"])
                schedules.append(
                    Schedule(logical_id, event_id, _rate_seconds(logical_id, expression))
                )
            else:
                raise UnsupportedTemplate(
                    f"{logical_id}.Events.{event_id}: event type {event['Type']} is not emulated"
                )
    tables = tuple(
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::DynamoDB::Table"
    )
    return StackWiring(functions, tuple(routes), tables, tuple(mappings), tuple(schedules))


_RATE: Final = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_UNIT_SECONDS: Final = {"minute": 60, "hour": 3600, "day": 86400}


def _parameter_default(template: Mapping[str, Any], value: Any) -> Any:
    """A ``!Ref`` to a parameter is its default, as a deploy that overrides nothing has it."""
    if isinstance(value, Mapping) and "Ref" in value:
        return template.get("Parameters", {}).get(value["Ref"], {}).get("Default")
    return value


def _rate_seconds(function_id: str, expression: object) -> float:
    found = _RATE.fullmatch(str(expression))
    if not found:
        raise UnsupportedTemplate(f"{function_id}: only rate(...) schedules are emulated")
    return int(found.group(1)) * _UNIT_SECONDS[found.group(2).rstrip("s")]


def _route(function_id: str, properties: Mapping[str, Any]) -> Route:
    auth = properties.get("Auth", {}).get("Authorizer")
    return Route(
        function_id=function_id,
        method=str(properties.get("Method", "ANY")).upper(),
        path=str(properties.get("Path", "/")),
        authorization=str(auth) if auth else None,
    )


def _pattern(function_id: str, text: str) -> Mapping[str, Any]:
    try:
        pattern = json.loads(text)
    except ValueError as error:
        raise UnsupportedTemplate(f"{function_id}: a filter pattern is not JSON: {text}") from error
    if not isinstance(pattern, dict):
        raise UnsupportedTemplate(f"{function_id}: a filter pattern must be a JSON object")
    return pattern


def _stream_mapping(function_id: str, properties: Mapping[str, Any]) -> StreamMapping:
    stream = properties["Stream"]
    if not (isinstance(stream, Mapping) and "Fn::GetAtt" in stream):
        raise UnsupportedTemplate(f"{function_id}: Stream must be !GetAtt <Table>.StreamArn")
    table_id, attribute = stream["Fn::GetAtt"]
    if attribute != "StreamArn":
        raise UnsupportedTemplate(f"{function_id}: Stream must be !GetAtt <Table>.StreamArn")
    destination = properties.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    destination_id = None
    if isinstance(destination, Mapping) and "Fn::GetAtt" in destination:
        destination_id = destination["Fn::GetAtt"][0]
    filters = properties.get("FilterCriteria", {}).get("Filters", [])
    return StreamMapping(
        function_id=function_id,
        table_id=table_id,
        batch_size=int(properties.get("BatchSize", DEFAULT_BATCH_SIZE)),
        batching_window_seconds=float(properties.get("MaximumBatchingWindowInSeconds", 0)),
        maximum_retry_attempts=int(
            properties.get("MaximumRetryAttempts", DEFAULT_MAXIMUM_RETRY_ATTEMPTS)
        ),
        maximum_record_age_seconds=int(
            properties.get("MaximumRecordAgeInSeconds", DEFAULT_MAXIMUM_RECORD_AGE_SECONDS)
        ),
        bisect_on_error=bool(properties.get("BisectBatchOnFunctionError", False)),
        report_batch_item_failures="ReportBatchItemFailures"
        in properties.get("FunctionResponseTypes", []),
        filter_patterns=tuple(_pattern(function_id, entry["Pattern"]) for entry in filters),
        on_failure_destination=destination_id,
    )
