"""Benchmarks 2 and 3: the webhook function's cold start and warm latency, ours against the
naive Powertools handler (``naive_webhook.py``), both against one DynamoDB Local.

Cold start: a fresh Python process (``lambda_child.py``, Lambda's runtime environment variables
and the template's for WebhookFunction) imports the handler module and serves its first event,
the signed seed webhook for a new order. Measured from just before the process is spawned to
the answer; the child stamps ``perf_counter`` (CLOCK_MONOTONIC, shared with us) so import and
first answer are also reported apart. Runs alternate ours / naive, after a discarded warm-up
pair, so drift in a busy machine hits both alike.

Then each function as packaged: its folder from ``sam build`` (built for this machine's
architecture, so that its native code loads; the .pyc are the same for arm64), copied read-only,
run by Python 3.13 without site-packages and with no bytecode writing, as Lambda runs /var/task.
The naive handler beside it the same way, packaged as ``sam build``'s Python workflow would (its
requirements with pip's ``--target``, no .pyc). boto3 and botocore, which the python3.13 runtime
ships in /var/runtime, come from a stand-in for it: the pinned versions, compiled as pip installs
them. The webhook: process start to first answer; the worker and the status function: process start
to handler imported (their first event needs Wix), the worker also without its bundled boto3.

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
from infra.sam.build import (
    LAMBDA_RUNTIME_ENVIRONMENT,
    built_functions,
    handler_environment,
    host_architecture,
    make_writable,
    python313,
    read_only_copy,
    sam_build,
)
from infra.sam.local_env import function_environment, function_handler
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
WORKER: Final = "FulfillmentFunction"
STATUS: Final = "StatusFunction"
RUNTIME_PROVIDED: Final = ("boto3", "botocore", "s3transfer")
COLD_RUNS: Final = int(os.environ.get("BENCH_COLD_RUNS", "15"))
WARM_DELIVERIES: Final = 1000
WARM_DUPLICATES: Final = 200
WARMUP_DELIVERIES: Final = 20
TOP_IMPORTS: Final = 4
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


@dataclass(frozen=True)
class Packages:
    """Read-only folders: each function's from sam build, the worker's without boto3, the naive
    handler's, and the runtime stand-in."""

    functions: dict[str, Path]
    lean_worker: Path
    naive: Path
    runtime: Path


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
        "AWS_LAMBDA_FUNCTION_NAME": "WebhookFunction",
        "LAMBDA_TASK_ROOT": str(FUNCTIONS_DIR),
        **function,
        "WIX_WEBHOOK_PUBLIC_KEY": DEV_PUBLIC_KEY_PATH.read_text(encoding="ascii"),
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint_url,
        "POWERTOOLS_SERVICE_NAME": "wix-webhook",
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(FUNCTIONS_DIR), str(REPO_ROOT)]),
        **tables,
    }


def _child(
    arguments: Sequence[str], env: Mapping[str, str], interpreter: Sequence[str] = (sys.executable,)
) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        [*interpreter, *arguments],
        cwd=REPO_ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{arguments[:3]} failed:\n{completed.stderr[-3000:]}")
    return completed


def cold_start(
    module: str,
    event: dict[str, Any],
    env: Mapping[str, str],
    work: Path,
    interpreter: Sequence[str] = (sys.executable,),
) -> ColdRun:
    event_path, result_path = work / "event.json", work / "result.json"
    event_path.write_text(json.dumps(event), encoding="utf-8")
    spawned = time.perf_counter()
    _child([str(CHILD), "cold", module, str(event_path), str(result_path)], env, interpreter)
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


def init_seconds(
    module: str, env: Mapping[str, str], work: Path, interpreter: Sequence[str]
) -> float:
    """Process start to the handler module imported: Lambda's init, without an event."""
    result_path = work / "init.json"
    spawned = time.perf_counter()
    _child([str(CHILD), "init", module, str(result_path)], env, interpreter)
    imported: float = json.loads(result_path.read_text(encoding="utf-8"))["imported"]
    return imported - spawned


def import_breakdown(
    module: str, env: Mapping[str, str], interpreter: Sequence[str] = (sys.executable,)
) -> list[tuple[str, float]]:
    """Seconds of import (self time, module-level code included) per top-level package."""
    completed = _child(["-X", "importtime", "-c", f"import {module}"], env, interpreter)
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
        python = python313()
        if python is None:
            raise RuntimeError("the packaged cold starts need a Python 3.13 (the runtime's)")
        interpreter = (str(python), "-S")
        print("  sam build, and the naive handler packaged as sam build would ...", flush=True)
        built = packages(work, python)
        packaged = {
            OURS: (
                OURS,
                packaged_environment(envs[OURS], built.functions["WebhookFunction"], built),
            ),
            NAIVE: (PACKAGED_NAIVE, packaged_environment(envs[NAIVE], built.naive, built)),
        }
        packaged_runs = cold_starts(packaged, deliveries, work, interpreter)
        packaged_breakdown = {
            name: import_breakdown(module, env, interpreter)
            for name, (module, env) in packaged.items()
        }
        inits = function_inits(built, work, interpreter)
        make_writable(work)

        warm: dict[str, tuple[list[float], Counter[str]]] = {}
        fresh = [deliveries.new() for _ in range(WARMUP_DELIVERIES + WARM_DELIVERIES)]
        events = [*fresh, *fresh[WARMUP_DELIVERIES : WARMUP_DELIVERIES + WARM_DUPLICATES]]
        for module in (OURS, NAIVE):
            print(f"  warm: {len(events)} deliveries to {module}", flush=True)
            warm[module] = warm_latencies(module, events, envs[module], work)
    return (
        cold_rows(runs, breakdown)
        + packaged_rows(packaged_runs, packaged_breakdown, inits)
        + warm_rows(warm)
    )


def cold_starts(
    handlers: Mapping[str, tuple[str, Mapping[str, str]]],
    deliveries: Deliveries,
    work: Path,
    interpreter: Sequence[str] = (sys.executable,),
) -> dict[str, list[ColdRun]]:
    """COLD_RUNS cold starts of each handler (module, environment), alternating, after a pair
    that warms the disk cache and DynamoDB Local's JIT and is not counted."""
    runs: dict[str, list[ColdRun]] = {name: [] for name in handlers}
    for number in range(COLD_RUNS + 1):
        for name in list(handlers)[:: 1 if number % 2 else -1]:
            module, env = handlers[name]
            measured = cold_start(module, deliveries.new(), env, work, interpreter)
            if number:
                runs[name].append(measured)
        print(f"  cold starts: {number}/{COLD_RUNS} pairs", flush=True)
    return runs


def packages(work: Path, python: Path) -> Packages:
    """What the packaged cold starts run, each folder read-only."""
    build = work / "build"
    sam_build(build, host_architecture())
    functions = {
        function_id: read_only_copy(build / function_id, work / "task" / function_id)
        for function_id in built_functions(load_template())
    }
    lean_worker = work / "lean" / WORKER
    shutil.copytree(build / WORKER, lean_worker, ignore=lambda _, names: _runtime_provided(names))
    naive = work / "naive"
    _pip_install(
        python,
        naive,
        [
            _requirement("aws-lambda-powertools"),
            _requirement("pyjwt").replace("pyjwt", "pyjwt[crypto]"),
            _requirement("aws-xray-sdk"),
        ],
        compile_modules=False,
    )
    shutil.copy(Path(__file__).with_name("naive_webhook.py"), naive / f"{PACKAGED_NAIVE}.py")
    runtime = work / "runtime"
    _pip_install(python, runtime, [_requirement("boto3")], compile_modules=True)
    for folder in (lean_worker, naive, runtime):
        read_only_copy(folder, folder.with_name(f"{folder.name}-ro"))
    return Packages(
        functions,
        lean_worker.with_name(f"{WORKER}-ro"),
        naive.with_name("naive-ro"),
        runtime.with_name("runtime-ro"),
    )


def _runtime_provided(names: Sequence[str]) -> list[str]:
    return [
        name for name in names if name in RUNTIME_PROVIDED or name.split("-")[0] in RUNTIME_PROVIDED
    ]


def _pip_install(
    python: Path, target: Path, requirements: Sequence[str], *, compile_modules: bool
) -> None:
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--root-user-action=ignore",
            "--compile" if compile_modules else "--no-compile",
            "--target",
            str(target),
            *requirements,
        ],
        check=True,
    )


def packaged_environment(
    env: Mapping[str, str], task_root: Path, built: Packages
) -> dict[str, str]:
    """``env`` for a handler in ``task_root``, the runtime stand-in after it as /var/runtime is."""
    return {
        **env,
        "PYTHONPATH": os.pathsep.join([str(task_root), str(built.runtime)]),
        "LAMBDA_TASK_ROOT": str(task_root),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def function_inits(
    built: Packages, work: Path, interpreter: Sequence[str]
) -> dict[str, list[float]]:
    """COLD_RUNS inits of the worker (as built, and without its boto3) and the status function,
    in turn, after a round that is not counted."""
    template = load_template()
    handlers = {
        name: (
            function_handler(template, function_id).rsplit(".", 1)[0],
            packaged_environment(handler_environment(function_id, root), root, built),
        )
        for name, function_id, root in (
            (WORKER, WORKER, built.functions[WORKER]),
            ("lean", WORKER, built.lean_worker),
            (STATUS, STATUS, built.functions[STATUS]),
        )
    }
    inits: dict[str, list[float]] = {name: [] for name in handlers}
    for number in range(COLD_RUNS + 1):
        for name, (module, env) in handlers.items():
            seconds = init_seconds(module, env, work, interpreter)
            if number:
                inits[name].append(seconds)
    print(f"  inits: {COLD_RUNS} of each of {', '.join(handlers)}", flush=True)
    return inits


def _requirement(name: str) -> str:
    """The pinned requirement for ``name`` among pyproject's dependencies, dev ones included."""
    with (REPO_ROOT / "pyproject.toml").open("rb") as stream:
        project = tomllib.load(stream)["project"]
    pinned = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    requirement: str = next(line for line in pinned if line.split("==")[0] == name)
    return requirement


def packaged_rows(
    runs: Mapping[str, Sequence[ColdRun]],
    breakdown: Mapping[str, Sequence[tuple[str, float]]],
    inits: Mapping[str, Sequence[float]],
) -> list[Row]:
    ours, naive = runs[OURS], runs[NAIVE]
    first_answer = _ms([run.to_first_answer for run in ours])
    count = f"median of {len(ours)}"
    return [
        Row(
            "WebhookFunction cold start as packaged (sam build): process start to first answer",
            first_answer,
            "ms",
            f"{NAIVE_NAME} as packaged",
            _ms([run.to_first_answer for run in naive]),
            target_ratio=0.2,
            note=f"{count}; target <= 100 ms: {'met' if first_answer <= 100 else 'NOT met'}; "
            "read-only folder, no bytecode written; ours with the .pyc sam build makes, "
            "the naive one as the Python workflow packages it (no .pyc)",
        ),
        Row(
            "WebhookFunction cold start as packaged: handler module import",
            _ms([run.import_seconds for run in ours]),
            "ms",
            f"{NAIVE_NAME} as packaged",
            _ms([run.import_seconds for run in naive]),
            note=_breakdown_note("ours", breakdown[OURS])
            + "; "
            + _breakdown_note("naive", breakdown[NAIVE])
            + " (-X importtime, self time per package)",
        ),
        Row(
            "WebhookFunction cold start as packaged: first event (verify, store, answer)",
            _ms([run.first_event_seconds for run in ours]),
            "ms",
            f"{NAIVE_NAME} as packaged",
            _ms([run.first_event_seconds for run in naive]),
            note=count,
        ),
        Row(
            f"{WORKER} init as packaged (boto3 bundled): process start to handler imported",
            _ms(inits[WORKER]),
            "ms",
            "boto3 from the runtime",
            _ms(inits["lean"]),
            note=f"median of {len(inits[WORKER])}; the runtime's stand-in holds the same "
            "versions, compiled as pip installs them",
        ),
        Row(
            f"{STATUS} init as packaged: process start to handler imported",
            _ms(inits[STATUS]),
            "ms",
            note=f"median of {len(inits[STATUS])}; boto3 bundled",
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
