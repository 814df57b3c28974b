"""Benchmarks 2 and 3: the webhook function's cold start and warm latency, ours against the
naive Powertools handler (``naive_webhook.py``), both against one DynamoDB Local.

Cold start: a fresh Python process (``lambda_child.py``, Lambda's runtime environment variables
and the template's for WebhookFunction) imports the handler module and serves its first event,
the signed seed webhook for a new order. Measured from just before the process is spawned to
the answer; the child stamps ``perf_counter`` (CLOCK_MONOTONIC, shared with us) so import and
first answer are also reported apart. Runs alternate ours / naive, after a discarded warm-up
pair, so drift in a busy machine hits both alike.

Then the same again as packaged: the function's folder as ``sam build`` lays it out (the
requirements installed with pip's ``--target``, the code) without any .pyc, as Lambda runs it
from a read-only /var/task, so every import outside the standard library compiles its module.

Warm: one process per handler serves 1,000 deliveries of new orders (after 20 untimed ones),
then 200 repeats of them (duplicates); p50 and p99 of each.

Both processes get Lambda's own variables (``LAMBDA_TASK_ROOT`` among them, so Powertools'
Tracer is on and patches as it does in Lambda) with an unsampled trace header: the cheapest
tracing case for the naive handler. ``python -X importtime`` of each, once, says what the import
time goes to (self time summed per top-level package).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from infra.local_stack.apigw_events import http_api_event
from infra.local_stack.dynamodb_local import DynamoDBLocal
from infra.sam.local_env import function_environment
from infra.samples.dev_data import (
    DEV_INSTANCE_ID,
    DEV_PRIVATE_KEY_PATH,
    DEV_PUBLIC_KEY_PATH,
    seed_envelope,
)
from infra.samples.webhook_signing import sign_wix_webhook, wix_webhook_claims
from infra.template import create_table_from_template, load_template
from tests.perf.figures import Row, percentile

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR: Final = REPO_ROOT / "functions"
CHILD: Final = Path(__file__).resolve().parent / "lambda_child.py"
OURS: Final = "wix_fulfillment.handlers.webhook"
NAIVE: Final = "tests.perf.naive_webhook"
NAIVE_NAME: Final = "naive Powertools"
PACKAGED_NAIVE: Final = "naive_webhook"
COLD_RUNS: Final = int(os.environ.get("BENCH_COLD_RUNS", "15"))
WARM_DELIVERIES: Final = 1000
WARM_DUPLICATES: Final = 200
WARMUP_DELIVERIES: Final = 20
TOP_IMPORTS: Final = 4
# What Lambda's python3.13 runtime sets for every function; credentials are DynamoDB Local's
# dummies, the X-Ray daemon address is on loopback (nothing is sent: the trace is unsampled).
LAMBDA_RUNTIME_ENVIRONMENT: Final = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
    "AWS_LAMBDA_FUNCTION_NAME": "WebhookFunction",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
    "LAMBDA_TASK_ROOT": str(FUNCTIONS_DIR),
    "_X_AMZN_TRACE_ID": (
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0"
    ),
    "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
    "LANG": "en_US.UTF-8",
    "TZ": ":UTC",
}
_IMPORT_LINE: Final = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)")


@dataclass(frozen=True)
class ColdRun:
    spawned: float
    started: float
    loaded: float
    imported: float
    answered: float
    exited: float

    @property
    def to_first_answer(self) -> float:
        return self.answered - self.spawned

    @property
    def import_seconds(self) -> float:
        return self.imported - self.loaded

    @property
    def first_event_seconds(self) -> float:
        return self.answered - self.imported

    @property
    def interpreter_seconds(self) -> float:
        return self.started - self.spawned

    @property
    def wall_seconds(self) -> float:
        return self.exited - self.spawned


class Deliveries:
    """Signed Order Approved deliveries of the seed payload, each for a new order."""

    def __init__(self) -> None:
        key = load_pem_private_key(DEV_PRIVATE_KEY_PATH.read_bytes(), password=None)
        assert isinstance(key, RSAPrivateKey)
        self._key = key

    def new(self) -> dict[str, Any]:
        envelope = seed_envelope()
        order_id = str(uuid.uuid4())
        envelope["id"] = str(uuid.uuid4())
        envelope["entityId"] = order_id
        envelope["actionEvent"]["body"]["order"]["id"] = order_id
        now = int(time.time())
        claims = wix_webhook_claims(
            envelope, instance_id=DEV_INSTANCE_ID, issued_at=now, expires_at=now + 3600
        )
        return http_api_event(sign_wix_webhook(claims, self._key))


def create_tables(client: DynamoDBClient) -> dict[str, dict[str, str]]:
    """Ours: the template's OrdersTable. Naive: the same, and Powertools' idempotency table
    (key ``id``, TTL on ``expiration``, as its documentation asks)."""
    template = load_template()
    suffix = uuid.uuid4().hex[:8]
    ours, naive, idempotency = (f"bench-{kind}-{suffix}" for kind in ("ours", "naive", "idem"))
    for name in (ours, naive):
        create_table_from_template(client, template, "OrdersTable", name)
    client.create_table(
        TableName=idempotency,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(
        TableName=idempotency, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    client.update_time_to_live(
        TableName=idempotency,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"},
    )
    return {
        OURS: {"TABLE_NAME": ours},
        NAIVE: {"TABLE_NAME": naive, "IDEMPOTENCY_TABLE_NAME": idempotency},
    }


def environment(endpoint_url: str, tables: Mapping[str, str]) -> dict[str, str]:
    """WebhookFunction's variables from the template, pointed at DynamoDB Local, on top of
    Lambda's own; the same for both handlers (the naive one reads what it needs of them)."""
    function = function_environment(load_template(), "WebhookFunction")
    return {
        **LAMBDA_RUNTIME_ENVIRONMENT,
        **function,
        "WIX_WEBHOOK_PUBLIC_KEY": DEV_PUBLIC_KEY_PATH.read_text(encoding="ascii"),
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint_url,
        "POWERTOOLS_SERVICE_NAME": "wix-webhook",
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(FUNCTIONS_DIR), str(REPO_ROOT)]),
        **tables,
    }


def _child(arguments: Sequence[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        [sys.executable, *arguments],
        cwd=REPO_ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{arguments[:3]} failed:\n{completed.stderr[-3000:]}")
    return completed


def cold_start(module: str, event: dict[str, Any], env: Mapping[str, str], work: Path) -> ColdRun:
    event_path, result_path = work / "event.json", work / "result.json"
    event_path.write_text(json.dumps(event), encoding="utf-8")
    spawned = time.perf_counter()
    _child([str(CHILD), "cold", module, str(event_path), str(result_path)], env)
    exited = time.perf_counter()
    result = json.loads(result_path.read_text(encoding="utf-8"))
    answer = result["answer"]
    if answer["statusCode"] != 200 or json.loads(answer["body"]) != {"status": "accepted"}:
        raise RuntimeError(f"{module} did not accept a new order: {answer}")
    return ColdRun(
        spawned, result["started"], result["loaded"], result["imported"], result["answered"], exited
    )


def warm_latencies(
    module: str, events: Sequence[dict[str, Any]], env: Mapping[str, str], work: Path
) -> tuple[list[float], Counter[str]]:
    events_path, result_path = work / "events.json", work / "warm.json"
    events_path.write_text(json.dumps(list(events)), encoding="utf-8")
    arguments = [str(CHILD), "warm", module, str(events_path), str(result_path)]
    _child([*arguments, str(WARMUP_DELIVERIES)], env)
    result = json.loads(result_path.read_text(encoding="utf-8"))
    return result["latencies"], Counter(result["answers"])


def import_breakdown(module: str, env: Mapping[str, str]) -> list[tuple[str, float]]:
    """Seconds of import (self time, module-level code included) per top-level package."""
    completed = _child(["-X", "importtime", "-c", f"import {module}"], env)
    microseconds: Counter[str] = Counter()
    for line in completed.stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match:
            name = match.group(4)
            package = name if name == module else name.split(".")[0]
            microseconds[package] += int(match.group(1))
    return [(package, spent / 1e6) for package, spent in microseconds.most_common(TOP_IMPORTS)]


def _breakdown_note(label: str, parts: Sequence[tuple[str, float]]) -> str:
    return f"{label}: " + ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in parts)


def _ms(values: Sequence[float]) -> float:
    return statistics.median(values) * 1000


def run() -> list[Row]:
    deliveries = Deliveries()
    with DynamoDBLocal() as dynamodb, tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        tables = create_tables(dynamodb.client())
        envs = {
            module: environment(dynamodb.endpoint_url, tables[module]) for module in (OURS, NAIVE)
        }
        runs = cold_starts(
            {OURS: (OURS, envs[OURS]), NAIVE: (NAIVE, envs[NAIVE])}, deliveries, work
        )
        breakdown = {module: import_breakdown(module, envs[module]) for module in (OURS, NAIVE)}
        print("  packaging as sam build does, without .pyc ...", flush=True)
        task_root = packaged_task_root(work)
        packaged = {
            OURS: (OURS, packaged_environment(envs[OURS], task_root)),
            NAIVE: (PACKAGED_NAIVE, packaged_environment(envs[NAIVE], task_root)),
        }
        packaged_runs = cold_starts(packaged, deliveries, work)
        print("  the same package with .pyc compiled, as a build step could ...", flush=True)
        compile_task_root(task_root)
        compiled_runs = cold_starts(packaged, deliveries, work)

        warm: dict[str, tuple[list[float], Counter[str]]] = {}
        fresh = [deliveries.new() for _ in range(WARMUP_DELIVERIES + WARM_DELIVERIES)]
        events = [*fresh, *fresh[WARMUP_DELIVERIES : WARMUP_DELIVERIES + WARM_DUPLICATES]]
        for module in (OURS, NAIVE):
            print(f"  warm: {len(events)} deliveries to {module}", flush=True)
            warm[module] = warm_latencies(module, events, envs[module], work)
    return (
        cold_rows(runs, breakdown) + packaged_rows(packaged_runs, compiled_runs) + warm_rows(warm)
    )


def cold_starts(
    handlers: Mapping[str, tuple[str, Mapping[str, str]]], deliveries: Deliveries, work: Path
) -> dict[str, list[ColdRun]]:
    """COLD_RUNS cold starts of each handler (module, environment), alternating, after a pair
    that warms the disk cache and DynamoDB Local's JIT and is not counted."""
    runs: dict[str, list[ColdRun]] = {name: [] for name in handlers}
    for number in range(COLD_RUNS + 1):
        for name in list(handlers)[:: 1 if number % 2 else -1]:
            module, env = handlers[name]
            measured = cold_start(module, deliveries.new(), env, work)
            if number:
                runs[name].append(measured)
        print(f"  cold starts: {number}/{COLD_RUNS} pairs", flush=True)
    return runs


def packaged_task_root(work: Path) -> Path:
    """What ``sam build`` puts in a function's folder (the requirements, the code) with no
    .pyc, as Lambda runs it: /var/task is read-only, so every cold start compiles each module it
    imports outside the runtime's standard library. The naive handler and its X-Ray SDK too."""
    root = work / "task"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            "--target",
            str(root),
            "-r",
            str(FUNCTIONS_DIR / "requirements.txt"),
            _dev_requirement("aws-xray-sdk"),
        ],
        check=True,
    )
    shutil.copytree(
        FUNCTIONS_DIR / "wix_fulfillment",
        root / "wix_fulfillment",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy(Path(__file__).with_name("naive_webhook.py"), root / f"{PACKAGED_NAIVE}.py")
    return root


def compile_task_root(task_root: Path) -> None:
    """What a build step could add: .pyc beside the sources, checked by hash rather than by
    modification time (a zip keeps times to 2 s, which would void time-checked ones). Unchecked:
    the package never changes once deployed."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "compileall",
            "-q",
            "--invalidation-mode",
            "unchecked-hash",
            str(task_root),
        ],
        check=True,
    )


def packaged_environment(env: Mapping[str, str], task_root: Path) -> dict[str, str]:
    return {
        **env,
        "PYTHONPATH": str(task_root),
        "LAMBDA_TASK_ROOT": str(task_root),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def _dev_requirement(name: str) -> str:
    """The pinned requirement for ``name`` among pyproject's dev dependencies."""
    with (REPO_ROOT / "pyproject.toml").open("rb") as stream:
        dev = tomllib.load(stream)["project"]["optional-dependencies"]["dev"]
    requirement: str = next(line for line in dev if line.split("==")[0] == name)
    return requirement


def packaged_rows(
    runs: Mapping[str, Sequence[ColdRun]], compiled: Mapping[str, Sequence[ColdRun]]
) -> list[Row]:
    ours, naive = runs[OURS], runs[NAIVE]
    return [
        Row(
            "webhook cold start as packaged (no .pyc): process start to first answer",
            _ms([run.to_first_answer for run in ours]),
            "ms",
            NAIVE_NAME,
            _ms([run.to_first_answer for run in naive]),
            note=f"median of {len(ours)}; what Lambda runs: sam build writes no .pyc and "
            "/var/task is read-only, so imports compile",
        ),
        Row(
            "webhook cold start as packaged (no .pyc): handler module import",
            _ms([run.import_seconds for run in ours]),
            "ms",
            NAIVE_NAME,
            _ms([run.import_seconds for run in naive]),
            note=f"median of {len(ours)}",
        ),
        Row(
            "webhook cold start as packaged with .pyc (compileall): start to first answer",
            _ms([run.to_first_answer for run in compiled[OURS]]),
            "ms",
            NAIVE_NAME,
            _ms([run.to_first_answer for run in compiled[NAIVE]]),
            note=f"median of {len(compiled[OURS])}; not what sam build makes today: "
            "a build step (python3.13 -m compileall --invalidation-mode unchecked-hash) would",
        ),
    ]


def cold_rows(
    runs: Mapping[str, Sequence[ColdRun]], breakdown: Mapping[str, Sequence[tuple[str, float]]]
) -> list[Row]:
    ours, naive = runs[OURS], runs[NAIVE]
    count = f"median of {len(ours)}"
    interpreter = _ms([run.interpreter_seconds for run in ours])
    return [
        Row(
            "webhook cold start: process start to first answer",
            _ms([run.to_first_answer for run in ours]),
            "ms",
            NAIVE_NAME,
            _ms([run.to_first_answer for run in naive]),
            target_ratio=0.5,
            note=f"{count}; interpreter start alone {interpreter:.0f} ms",
        ),
        Row(
            "webhook cold start: handler module import",
            _ms([run.import_seconds for run in ours]),
            "ms",
            NAIVE_NAME,
            _ms([run.import_seconds for run in naive]),
            note=_breakdown_note("ours", breakdown[OURS])
            + "; "
            + _breakdown_note("naive", breakdown[NAIVE])
            + " (-X importtime, self time per package)",
        ),
        Row(
            "webhook cold start: first event (verify, store, answer)",
            _ms([run.first_event_seconds for run in ours]),
            "ms",
            NAIVE_NAME,
            _ms([run.first_event_seconds for run in naive]),
            note=count,
        ),
        Row(
            "webhook cold start: process wall time, spawn to exit",
            _ms([run.wall_seconds for run in ours]),
            "ms",
            NAIVE_NAME,
            _ms([run.wall_seconds for run in naive]),
            note=count,
        ),
    ]


def warm_rows(warm: Mapping[str, tuple[Sequence[float], Counter[str]]]) -> list[Row]:
    rows: list[Row] = []
    for label, start, stop in (
        (f"{WARM_DELIVERIES:,} new orders", 0, WARM_DELIVERIES),
        (f"{WARM_DUPLICATES} duplicates", WARM_DELIVERIES, WARM_DELIVERIES + WARM_DUPLICATES),
    ):
        ours = warm[OURS][0][start:stop]
        naive = warm[NAIVE][0][start:stop]
        for share, name in ((0.5, "p50"), (0.99, "p99")):
            rows.append(
                Row(
                    f"webhook warm latency {name}, {label}",
                    percentile(ours, share) * 1000,
                    "ms",
                    NAIVE_NAME,
                    percentile(naive, share) * 1000,
                    note="one warm process each, DynamoDB Local",
                )
            )
    answers = "; ".join(
        f"{'ours' if module == OURS else 'naive'} answered "
        + ", ".join(f"{count} x {answer}" for answer, count in sorted(counter.items()))
        for module, (_, counter) in warm.items()
    )
    return [*rows[:-1], replace(rows[-1], note=answers)]


if __name__ == "__main__":
    from tests.perf.figures import markdown_table

    print(markdown_table(run()))
