"""``sam build`` as users run it: each function's folder holds what its handler imports, and
.pyc files that Python 3.13 loads from a read-only copy without compiling a module.

Runs where the SAM CLI is installed (``make build`` installs it into ``.venv-sam``) and a Python
3.13 is found; built for this machine's architecture, so that the handlers' native code loads.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.local_stack.dynamodb_local import DynamoDBLocal
from infra.sam.build import (
    HandlerImport,
    built_functions,
    check_function,
    handler_environment,
    host_architecture,
    import_handler,
    make_writable,
    python313,
    read_only_copy,
    sam_build,
    sam_executable,
)
from infra.sam.local_env import function_handler
from tests.support.webhooks import KeyPair, signed_webhook, webhook_event

PYTHON = python313()
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")
WEBHOOK_LEFT_OUT = ("cffi", "pycparser", "aws_lambda_powertools/event_handler")
"""What the Makefile leaves out of the webhook's package (WEBHOOK_UNUSED), for a sample."""
SERVE_PROBE = """
import json, sys
sys.path.insert(0, sys.argv[1])
from wix_fulfillment.handlers.webhook import handler

class Context:
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    function_name = "WebhookFunction"
    memory_limit_in_mb = 512

    def get_remaining_time_in_millis(self):
        return 5000

answers = [handler(event, Context())["statusCode"] for event in json.loads(sys.stdin.read())]
print(json.dumps({"answers": answers, "modules": sorted(sys.modules)}))
"""
"""Serves the events read from stdin with the handler imported from the task root; prints the
status codes and every module loaded by then."""

pytestmark = pytest.mark.skipif(PYTHON is None, reason="sam build needs a Python 3.13")


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sam_executable()  # installed into .venv-sam the first time
    build = tmp_path_factory.mktemp("sam") / "build"
    sam_build(build, host_architecture())
    return build


@pytest.fixture
def task_roots(build_dir: Path, tmp_path: Path) -> Iterator[dict[str, Path]]:
    """A read-only copy of each built function's folder, as Lambda's /var/task."""
    roots = {
        folder.name: read_only_copy(folder, tmp_path / folder.name)
        for folder in build_dir.iterdir()
        if folder.is_dir()
    }
    yield roots
    for root in roots.values():
        make_writable(root)


def _import(template: dict[str, Any], function_id: str, task_root: Path) -> HandlerImport:
    assert PYTHON is not None
    module = function_handler(template, function_id).rsplit(".", 1)[0]
    return import_handler(PYTHON, task_root, module, handler_environment(function_id, task_root))


def test_every_function_is_built_and_passes_the_build_check(
    build_dir: Path, template: dict[str, Any]
) -> None:
    functions = built_functions(template)
    assert functions
    for function_id in functions:
        handler = function_handler(template, function_id)
        assert (
            check_function(build_dir / function_id, function_id, handler, host_architecture()) == []
        )


def test_handlers_import_from_a_read_only_folder_without_compiling_a_module(
    task_roots: dict[str, Path], template: dict[str, Any]
) -> None:
    for function_id in built_functions(template):
        imported = _import(template, function_id, task_roots[function_id])

        assert imported.compiled == [], function_id
        assert "wix_fulfillment" in imported.packages


def test_a_module_without_its_pyc_is_seen_compiled(
    build_dir: Path, tmp_path: Path, template: dict[str, Any]
) -> None:
    task_root = tmp_path / "task"
    shutil.copytree(build_dir / "WebhookFunction", task_root)
    handler_pyc = (
        task_root / "wix_fulfillment" / "handlers" / "__pycache__" / "webhook.cpython-313.pyc"
    )
    handler_pyc.unlink()

    imported = _import(template, "WebhookFunction", task_root)

    assert [Path(path).name for path in imported.compiled] == ["webhook.py"]


def test_the_webhook_package_holds_no_aws_sdk_and_imports_none(
    build_dir: Path, task_roots: dict[str, Path], template: dict[str, Any]
) -> None:
    webhook = build_dir / "WebhookFunction"
    bundled = {path.name for path in webhook.iterdir()}

    assert not bundled & {*RUNTIME_PROVIDED, "jwt", "urllib3"}
    imported = _import(template, "WebhookFunction", task_roots["WebhookFunction"])
    assert {"cryptography", "wix_fulfillment"} <= set(imported.packages)
    assert not set(imported.packages) & set(RUNTIME_PROVIDED)


def test_the_webhook_package_serves_deliveries_without_what_it_leaves_out(
    build_dir: Path,
    task_roots: dict[str, Path],
    dynamodb_local: DynamoDBLocal,
    orders_table: str,
    webhook_keys: KeyPair,
    other_keys: KeyPair,
) -> None:
    assert PYTHON is not None
    task_root = task_roots["WebhookFunction"]
    for left_out in WEBHOOK_LEFT_OUT:
        assert not (build_dir / "WebhookFunction" / left_out).exists(), left_out
    token = signed_webhook(webhook_keys)
    events = [webhook_event(token), webhook_event(token), webhook_event(signed_webhook(other_keys))]
    env = {
        **handler_environment("WebhookFunction", task_root),
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_local.endpoint_url,
        "TABLE_NAME": orders_table,
        "WIX_WEBHOOK_PUBLIC_KEY": webhook_keys.public_pem,
    }

    served = subprocess.run(
        [str(PYTHON), "-S", "-c", SERVE_PROBE, str(task_root)],
        input=json.dumps(events),
        cwd=task_root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )

    found = json.loads(served.stdout.splitlines()[-1])
    assert found["answers"] == [200, 200, 401]
    assert "_cffi_backend" in found["modules"]
