"""The local stack: DynamoDB Local, the Wix sandbox, the functions, the HTTP API and the streams,
all wired as template.yaml wires them (see ``wiring.py``)."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeVar

from infra.local_stack.dynamodb_local import DynamoDBLocal
from infra.local_stack.dynamodb_stream import StreamReader
from infra.local_stack.env_file import ENV_VARS_PATH, env_file_values
from infra.local_stack.functions import REPO_ROOT, FunctionPool
from infra.local_stack.http_api import Exchange, HttpApi
from infra.local_stack.schedules import ScheduleTimer, scheduled_event
from infra.local_stack.streams import BatchReport, DeadLetterFile, StreamPoller
from infra.local_stack.wiring import FunctionSpec, StackWiring, read_wiring
from infra.samples.dev_data import DEV_INSTANCE_ID, DEV_PRIVATE_KEY_PATH
from infra.service import LocalService
from infra.template import TEMPLATE_PATH, create_table_from_template, load_template
from infra.wix_sandbox import SandboxClient, SandboxProcess

ServiceT = TypeVar("ServiceT", bound=LocalService)
WORK_DIR: Final = REPO_ROOT / ".local"
WEBHOOK_KEY_VARIABLE: Final = "WIX_WEBHOOK_PUBLIC_KEY"
# What a function may expect in Lambda besides its own variables.
_LAMBDA_ENVIRONMENT: Final = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "LANG": "en_US.UTF-8",
    "TZ": ":UTC",
}


@dataclass(frozen=True)
class StackSettings:
    template_path: Path = TEMPLATE_PATH
    env_vars_path: Path = ENV_VARS_PATH
    http_port: int = 0
    sandbox_port: int = 0
    dynamodb_port: int | None = None
    work_dir: Path = WORK_DIR
    resend_compression: float = 60.0
    """Wix's webhook resend schedule, compressed (60: its first minute is a second)."""
    sandbox_arguments: tuple[str, ...] = ()
    webhook_concurrency: int = 4
    schedule_every_seconds: float | None = None
    """Run the template's schedules on a timer this often (0: the template's rate); None: only
    when asked (``run_schedule``), which is what tests want."""
    log: Callable[[str], None] = field(default=print)


class LocalStack(LocalService):
    def __init__(self, settings: StackSettings | None = None) -> None:
        self.settings = settings or StackSettings()
        self.template = load_template(self.settings.template_path)
        self.wiring: StackWiring = read_wiring(self.template)
        self.dynamodb = DynamoDBLocal(self.settings.dynamodb_port)
        self.table_names = {table_id: table_id for table_id in self.wiring.tables}
        self.http_api = HttpApi(
            self.wiring.routes, self._invoke, self._log_exchange, self.settings.http_port
        )
        self.sandbox: SandboxProcess | None = None
        self.functions: dict[str, FunctionPool] = {}
        self.pollers: list[StreamPoller] = []
        self._started: list[LocalService] = []

    # --- lifecycle ---

    def start(self) -> LocalStack:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        logs = self.settings.work_dir / "logs"
        shutil.rmtree(logs, ignore_errors=True)
        logs.mkdir(parents=True)
        self._keep(self.dynamodb.start())
        for table_id, name in self.table_names.items():
            create_table_from_template(self.dynamodb.client(), self.template, table_id, name)
        self._keep(self.http_api.start())
        self.sandbox = SandboxProcess(
            "--private-key",
            str(DEV_PRIVATE_KEY_PATH),
            "--site",
            DEV_INSTANCE_ID,
            "--webhook-url",
            self.http_api.base_url + self._webhook_route_path(),
            "--resend-compression",
            str(self.settings.resend_compression),
            *self.settings.sandbox_arguments,
            port=self.settings.sandbox_port,
        )
        self._keep(self.sandbox.start())
        for spec in self.wiring.functions.values():
            routed = any(route.function_id == spec.logical_id for route in self.wiring.routes)
            pool = FunctionPool(
                spec,
                self.function_environment(spec),
                self._log_function_line,
                concurrency=self.settings.webhook_concurrency if routed else 1,
            )
            self.functions[spec.logical_id] = self._keep(pool.start())
        dead_letters = self.settings.work_dir / "dead-letters"
        shutil.rmtree(dead_letters, ignore_errors=True)
        for mapping in self.wiring.stream_mappings:
            reader = StreamReader(
                self.dynamodb.client(),
                self.dynamodb.streams_client(),
                self.table_names[mapping.table_id],
            )
            destination = (
                DeadLetterFile(dead_letters / f"{mapping.on_failure_destination}.jsonl")
                if mapping.on_failure_destination
                else None
            )
            pool = self.functions[mapping.function_id]
            poller = StreamPoller(mapping, reader, pool.invoke, destination, self._log_batch)
            self.pollers.append(self._keep(poller.start()))
        if self.settings.schedule_every_seconds is not None:
            for schedule in self.wiring.schedules:
                timer = ScheduleTimer(
                    schedule,
                    self.functions[schedule.function_id].invoke,
                    self.settings.log,
                    self.settings.schedule_every_seconds or None,
                )
                self._keep(timer.start())

    def stop(self) -> None:
        while self._started:
            service = self._started.pop()
            service.stop()

    def _keep(self, service: ServiceT) -> ServiceT:
        self._started.append(service)
        return service

    # --- what the functions get ---

    def function_environment(self, spec: FunctionSpec) -> dict[str, str]:
        """The template's variables for the function: the stack's own resources and endpoints
        first, then ``env.json`` (as for ``sam local invoke``), then the template's literals."""
        from_file = env_file_values(self.settings.env_vars_path, spec.logical_id)
        stack_values = self._stack_values()
        environment = dict(_LAMBDA_ENVIRONMENT)
        for name, declared in spec.environment.items():
            resolved = self._resolve(declared)
            if name in stack_values:
                environment[name] = stack_values[name]
            elif resolved is not None:
                environment[name] = resolved
            elif name in from_file:
                environment[name] = str(from_file[name])
            else:
                environment[name] = declared if isinstance(declared, str) else ""
        return environment

    def _resolve(self, declared: Any) -> str | None:
        """A ``!Ref`` to one of the stack's tables is its local name; other values are not ours."""
        if isinstance(declared, Mapping) and declared.get("Ref") in self.table_names:
            return self.table_names[declared["Ref"]]
        return None

    def _stack_values(self) -> dict[str, str]:
        assert self.sandbox is not None
        sandbox = self.sandbox.base_url
        return {
            "AWS_ENDPOINT_URL_DYNAMODB": self.dynamodb.endpoint_url,
            "WIX_API_BASE_URL": sandbox,
            "SHIPMENT_PROVIDER_URL": f"{sandbox}/_sandbox/carrier/labels",
            WEBHOOK_KEY_VARIABLE: self.sandbox.client().public_key_pem(),
        }

    def _webhook_route_path(self) -> str:
        """Where Wix sends webhooks: the POST route of the function that verifies them."""
        for route in self.wiring.routes:
            spec = self.wiring.functions[route.function_id]
            if route.method == "POST" and WEBHOOK_KEY_VARIABLE in spec.environment:
                return route.path
        raise ValueError(f"no POST route serves a function with {WEBHOOK_KEY_VARIABLE}")

    def _invoke(self, function_id: str, event: dict[str, Any]) -> Any:
        return self.functions[function_id].invoke(event)

    # --- for tools and tests ---

    @property
    def wix(self) -> SandboxClient:
        assert self.sandbox is not None, "the stack is not started"
        return self.sandbox.client()

    def run_schedule(self, function_id: str = "ReconcileFunction") -> Any:
        """Invoke a scheduled function now, with the event its schedule sends; its answer."""
        [schedule] = [s for s in self.wiring.schedules if s.function_id == function_id]
        return self._invoke(function_id, scheduled_event(schedule))

    def wait_until_idle(self, timeout: float = 60.0) -> bool:
        """True once every stream mapping has delivered all it has seen."""
        deadline = time.monotonic() + timeout
        return all(poller.idle.wait(max(deadline - time.monotonic(), 0)) for poller in self.pollers)

    # --- one line per webhook and per fulfillment ---

    def _log_exchange(self, exchange: Exchange) -> None:
        try:
            answer = json.loads(exchange.body)
        except ValueError:
            answer = {}
        outcome = answer.get("status") or answer.get("error") or answer.get("message") or ""
        self.settings.log(
            f"http     {exchange.method} {exchange.path} -> {exchange.status} {outcome}"
        )

    def _log_batch(self, report: BatchReport) -> None:
        if report.dead_lettered:
            self.settings.log(
                f"stream   {report.function_id}: {report.dead_lettered} records to the dead letters"
            )
        elif report.failed:
            self.settings.log(
                f"stream   {report.function_id}: {report.failed} of {report.records} to retry"
            )

    def _log_function_line(self, function_id: str, line: str) -> None:
        log_path = self.settings.work_dir / "logs" / f"{function_id}.log"
        with log_path.open("a", encoding="utf-8") as log_file:
            log_file.write(line + "\n")
        if function_id in {route.function_id for route in self.wiring.routes}:
            return
        try:
            entry = json.loads(line)
        except ValueError:
            return
        if isinstance(entry, dict) and str(entry.get("message", "")).startswith("order "):
            scheduled = {schedule.function_id for schedule in self.wiring.schedules}
            who = "sweep " if function_id in scheduled else "worker"
            self.settings.log(
                f"{who}   {entry['message']}: site {entry.get('instance_id')}"
                f" order {entry.get('order_id')}"
            )
