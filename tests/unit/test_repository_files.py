"""Files that must agree with each other: dependency lists, generated samples, template handlers."""

from __future__ import annotations

import importlib.util
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from infra.local_stack.env_file import ENV_VARS_PATH
from infra.sam.local_env import function_handler
from infra.sam.sample_events import (
    ORDER_APPROVED_EVENT_PATH,
    ORDER_STATUS_EVENT_PATH,
    ORDER_STREAM_EVENT_PATH,
    SAMPLE_FLOW_APPROVED_EVENT_PATH,
    env_vars,
    order_approved_event,
    order_status_event,
    order_stream_event,
    sample_flow_approved_event,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_sam_build_installs_exactly_the_projects_runtime_dependencies() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    requirements = {
        line.strip()
        for path in (REPO_ROOT / "functions").glob("requirements-*.txt")
        for line in path.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }

    assert sorted(requirements) == sorted(pyproject["project"]["dependencies"])


@pytest.mark.parametrize(
    ("path", "make"),
    [
        (ORDER_APPROVED_EVENT_PATH, order_approved_event),
        (ORDER_STREAM_EVENT_PATH, order_stream_event),
        (SAMPLE_FLOW_APPROVED_EVENT_PATH, sample_flow_approved_event),
        (ORDER_STATUS_EVENT_PATH, order_status_event),
        (ENV_VARS_PATH, env_vars),
    ],
    ids=[
        "order_approved.json",
        "order_stream.json",
        "sample_flow_approved.json",
        "order_status.json",
        "env.json",
    ],
)
def test_committed_samples_match_what_the_generator_makes(path: Path, make: Any) -> None:
    assert json.loads(path.read_text()) == make(), "run `make events`"


def test_template_handlers_name_importable_functions(template: dict[str, Any]) -> None:
    functions = [
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    ]
    assert functions
    for logical_id in functions:
        module_name = function_handler(template, logical_id).rsplit(".", 1)[0]
        assert importlib.util.find_spec(module_name) is not None, logical_id
