"""Functions in their own processes, as Lambda runs them: init once, then one event at a time.

A function gets only its environment (what the template declares, as resolved by the stack) and
only its code on the path. A pool of processes stands in for Lambda's concurrency; an invocation
that outlives the template's ``Timeout`` kills its process, which is replaced, as Lambda does.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from infra.local_stack.wiring import FunctionSpec
from infra.service import LocalService, start_child

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR: Final = REPO_ROOT / "functions"
RUNTIME_SCRIPT: Final = Path(__file__).resolve().parent / "runtime.py"
INIT_TIMEOUT_SECONDS: Final = 30.0

LogSink = Callable[[str, str], None]
"""Receives (function logical id, one line the function printed)."""


class FunctionError(RuntimeError):
    """The invocation failed as a whole: an unhandled error, a timeout, or a crashed process."""


class _Environment:
    """One execution environment: a process, its request pipe and its answer pipe."""

    def __init__(self, spec: FunctionSpec, environment: Mapping[str, str], log: LogSink) -> None:
        self.spec = spec
        answers_read, answers_write = os.pipe()
        self.process: subprocess.Popen[str] = start_child(
            [
                sys.executable,
                str(RUNTIME_SCRIPT),
                spec.handler,
                "--function-name",
                spec.logical_id,
                "--answers-fd",
                str(answers_write),
            ],
            cwd=FUNCTIONS_DIR,
            env=dict(environment),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(answers_write,),
            text=True,
        )
        os.close(answers_write)
        self._answers_file = os.fdopen(answers_read, encoding="utf-8")
        self._answers: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._answers_closed = False
        threading.Thread(target=self._read_answers, daemon=True).start()
        threading.Thread(target=self._pump_logs, args=(log,), daemon=True).start()

    def wait_ready(self) -> None:
        answer = self._next_answer(INIT_TIMEOUT_SECONDS)
        if answer is None or not answer.get("ready"):
            self.kill()
            raise FunctionError(f"{self.spec.logical_id}: init failed (see its log)")

    def invoke(self, event: Any) -> Any:
        request = {
            "event": event,
            "timeoutSeconds": self.spec.timeout_seconds,
            "requestId": str(uuid.uuid4()),
        }
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        except BrokenPipeError as error:
            raise FunctionError(f"{self.spec.logical_id}: the process has exited") from error
        answer = self._next_answer(self.spec.timeout_seconds + 1.0)
        if answer is None:
            crashed = self._answers_closed
            self.kill()
            if crashed:
                raise FunctionError(
                    f"{self.spec.logical_id}: the process exited ({self.process.returncode})"
                )
            raise FunctionError(
                f"{self.spec.logical_id}: Task timed out after {self.spec.timeout_seconds:.2f} s"
            )
        if "errorType" in answer:
            raise FunctionError(f"{answer['errorType']}: {answer['errorMessage']}")
        return answer["result"]

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()

    def _next_answer(self, timeout: float) -> dict[str, Any] | None:
        try:
            return self._answers.get(timeout=timeout)
        except queue.Empty:
            return None

    def _read_answers(self) -> None:
        for line in self._answers_file:
            self._answers.put(json.loads(line))
        self._answers_closed = True
        self._answers.put(None)

    def _pump_logs(self, log: LogSink) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            log(self.spec.logical_id, line.rstrip("\n"))


class FunctionPool(LocalService):
    """``concurrency`` execution environments of one function; ``invoke`` uses an idle one."""

    def __init__(
        self,
        spec: FunctionSpec,
        environment: Mapping[str, str],
        log: LogSink,
        concurrency: int = 1,
    ) -> None:
        self.spec = spec
        self._environment = {
            **environment,
            "PYTHONPATH": str(FUNCTIONS_DIR),
            "AWS_LAMBDA_FUNCTION_NAME": spec.logical_id,
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(int(spec.timeout_seconds)),
        }
        self._log = log
        self._concurrency = concurrency
        self._idle: queue.Queue[_Environment] = queue.Queue()
        self._all: list[_Environment] = []
        self._busy: set[_Environment] = set()
        self._lock = threading.Lock()

    def start(self) -> FunctionPool:
        for _ in range(self._concurrency):
            self._add_environment()
        return self

    def invoke(self, event: Any) -> Any:
        environment = self._idle.get()
        with self._lock:
            self._busy.add(environment)
        try:
            return environment.invoke(event)
        finally:
            with self._lock:
                self._busy.discard(environment)
            if environment.alive:
                self._idle.put(environment)
            else:
                self._replace(environment)

    def kill_busy(self) -> int:
        """SIGKILL the environments in an invocation, as a host's crash would: each invocation
        fails as a whole and its environment is replaced. How many were killed."""
        with self._lock:
            busy = list(self._busy)
        for environment in busy:
            environment.process.kill()
        return len(busy)

    def stop(self) -> None:
        with self._lock:
            environments, self._all = self._all, []
        for environment in environments:
            environment.stop()

    def _add_environment(self) -> None:
        environment = _Environment(self.spec, self._environment, self._log)
        with self._lock:
            self._all.append(environment)
        environment.wait_ready()
        self._idle.put(environment)

    def _replace(self, dead: _Environment) -> None:
        with self._lock:
            if dead in self._all:
                self._all.remove(dead)
        self._add_environment()
