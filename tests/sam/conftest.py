"""The SAM tests: the README's ``sam local`` section run as written, in Docker.

Where they cannot run (no Docker engine answers, or not Linux on x86_64) they are left out and
one line at the end of the run says so and why; under CI (``CI=true``) that is an error instead,
so CI never passes without them. DynamoDB Local, the Wix sandbox and ``sam local start-api`` run
on the ports the README names (8000, 8700, 3000): the tests fail plainly when one is taken.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from infra.local_stack.dynamodb_local import local_client
from infra.sam.lambda_image import built_digest
from infra.wix_sandbox.client import SandboxClient
from tests.support.sam_local import (
    BRIDGE_HOST,
    REPO_ROOT,
    Foreground,
    bridge_address,
    copy_working_tree,
    port_taken,
    sam_environment,
    sam_tests_problem,
    shell,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

SAM_TESTS = Path(__file__).resolve().parent
LEFT_OUT = pytest.StashKey[str]()

MAKE_LAMBDA_IMAGE = "make lambda-image"
MAKE_DYNAMODB_LOCAL = "make dynamodb-local"
MAKE_SANDBOX = "make sandbox SANDBOX_HOST=172.17.0.1"
SAM_BUILD = "LAMBDA_ARCHITECTURE=x86_64 sam build --parameter-overrides Architecture=x86_64"
STAND_IN_IMAGE = "wix-fulfillment/lambda-python3.13-standin:x86_64"
DYNAMODB_LOCAL_URL = "http://127.0.0.1:8000"
SANDBOX_URL = f"http://{BRIDGE_HOST}:8700"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    ours = [item for item in items if item.path.is_relative_to(SAM_TESTS)]
    if not ours:
        return
    problem = sam_tests_problem()
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        raise pytest.UsageError(f"the SAM tests (tests/sam) must run under CI: {problem}")
    items[:] = [item for item in items if item not in ours]
    config.hook.pytest_deselected(items=ours)
    config.stash[LEFT_OUT] = f"SAM tests skipped ({len(ours)} in tests/sam): {problem}"


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """One line: that the SAM tests were left out and why, or how many ran and how long they took
    (setup, call and teardown added up: the builds and containers included)."""
    note = config.stash.get(LEFT_OUT, None)
    if note is not None:
        terminalreporter.write_line(note, yellow=True)
        return
    reports = [
        report
        for reports in terminalreporter.stats.values()
        for report in reports
        if isinstance(report, pytest.TestReport) and report.nodeid.startswith("tests/sam/")
    ]
    if not reports:
        return
    outcomes = Counter(
        report.outcome for report in reports if report.when == "call" or report.outcome != "passed"
    )
    counts = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
    seconds = sum(report.duration for report in reports)
    terminalreporter.write_line(f"SAM tests (tests/sam): {counts} in {seconds:.1f} s")


@pytest.fixture(scope="session")
def sam_env() -> dict[str, str]:
    return sam_environment()


@pytest.fixture(scope="session")
def stand_in_image(sam_env: dict[str, str]) -> str:
    """The README's ``make lambda-image``: built once, then found in Docker's image store."""
    shell(MAKE_LAMBDA_IMAGE, REPO_ROOT, sam_env, timeout=900)
    assert built_digest(STAND_IN_IMAGE), f"{MAKE_LAMBDA_IMAGE} made no {STAND_IN_IMAGE}"
    return STAND_IN_IMAGE


@pytest.fixture(scope="session")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_working_tree(tmp_path_factory.mktemp("checkout"))


@pytest.fixture(scope="session")
def local_services(
    tmp_path_factory: pytest.TempPathFactory, sam_env: dict[str, str]
) -> Iterator[None]:
    """The README's first two terminals: DynamoDB Local, and the sandbox on Docker's bridge."""
    assert bridge_address() == BRIDGE_HOST, (
        f"Docker's bridge is at {bridge_address()}, not {BRIDGE_HOST} as the README's commands say"
    )
    for host, port in (("127.0.0.1", 8000), (BRIDGE_HOST, 8700), ("127.0.0.1", 8700)):
        assert not port_taken(host, port), f"{host}:{port} is taken: the SAM tests need it"
    logs = tmp_path_factory.mktemp("logs")
    # One after the other: both make targets may first bring the virtualenv up to date.
    dynamodb = Foreground(MAKE_DYNAMODB_LOCAL, REPO_ROOT, sam_env, logs / "dynamodb-local.log")
    try:
        dynamodb.wait_for("DynamoDB Local on http://127.0.0.1:8000", timeout=300)
        sandbox = Foreground(MAKE_SANDBOX, REPO_ROOT, sam_env, logs / "sandbox.log")
        try:
            sandbox.wait_for(f"Wix sandbox on {SANDBOX_URL}", timeout=120)
            yield
        finally:
            sandbox.stop()
    finally:
        dynamodb.stop()


@pytest.fixture(scope="session")
def built(tree: Path, sam_env: dict[str, str], stand_in_image: str) -> Path:
    """The copy of the checkout after the README's ``sam build``."""
    shell(SAM_BUILD, tree, sam_env, timeout=900)
    return tree


@pytest.fixture(scope="session")
def sandbox(local_services: None) -> SandboxClient:
    return SandboxClient(SANDBOX_URL)


@pytest.fixture(scope="session")
def dynamodb(local_services: None) -> DynamoDBClient:
    return local_client(DYNAMODB_LOCAL_URL)
