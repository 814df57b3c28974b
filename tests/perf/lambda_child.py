"""A stand-in for Lambda's Python runtime, run as a fresh process by ``bench_cold_start``.

``python lambda_child.py cold MODULE EVENT_FILE RESULT_FILE``: import the handler module and
serve one event, writing ``time.perf_counter()`` stamps (CLOCK_MONOTONIC on Linux, so comparable
with the parent's) to RESULT_FILE. ``init MODULE RESULT_FILE``: only import it (Lambda's init), with
the same stamps. ``warm MODULE EVENTS_FILE RESULT_FILE WARMUP``: serve a list of events in one
process, the first WARMUP untimed, and write each later one's latency.

Run by path, so it imports nothing of the project before the handler does.
"""

import time

STARTED = time.perf_counter()

import importlib  # noqa: E402 (after the first stamp, on purpose)
import json  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

del sys.path[0]  # this file's folder: the handler's imports must resolve as in Lambda


class Context:
    """What Lambda passes as ``context``: the attributes Powertools and our handlers read."""

    function_name = "WebhookFunction"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:WebhookFunction"
    log_group_name = "/aws/lambda/WebhookFunction"
    log_stream_name = "2026/01/01/[$LATEST]0123456789abcdef"

    def __init__(self, number: int, timeout_seconds: float = 5.0) -> None:
        self.aws_request_id = f"00000000-0000-4000-8000-{number:012d}"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def _load(path: str) -> Any:
    with open(path, encoding="utf-8") as stream:
        return json.load(stream)


def cold(module_name: str, event_path: str, result_path: str) -> None:
    event = _load(event_path)
    loaded = time.perf_counter()
    handler = importlib.import_module(module_name).handler
    imported = time.perf_counter()
    answer = handler(event, Context(0))
    answered = time.perf_counter()
    result = {
        "started": STARTED,
        "loaded": loaded,
        "imported": imported,
        "answered": answered,
        "answer": answer,
    }
    with open(result_path, "w", encoding="utf-8") as stream:
        json.dump(result, stream)


def init(module_name: str, result_path: str) -> None:
    loaded = time.perf_counter()
    importlib.import_module(module_name)
    imported = time.perf_counter()
    with open(result_path, "w", encoding="utf-8") as stream:
        json.dump({"started": STARTED, "loaded": loaded, "imported": imported}, stream)


def warm(module_name: str, events_path: str, result_path: str, warmup: int) -> None:
    events = _load(events_path)
    handler = importlib.import_module(module_name).handler
    latencies: list[float] = []
    answers: dict[str, int] = {}
    for number, event in enumerate(events):
        context = Context(number)
        started = time.perf_counter()
        answer = handler(event, context)
        elapsed = time.perf_counter() - started
        if number >= warmup:
            latencies.append(elapsed)
            key = f"{answer['statusCode']} {answer['body']}"
            answers[key] = answers.get(key, 0) + 1
    with open(result_path, "w", encoding="utf-8") as stream:
        json.dump({"latencies": latencies, "answers": answers}, stream)


if __name__ == "__main__":
    mode, module, *paths = sys.argv[1:]
    if mode == "init":
        init(module, paths[0])
    elif mode == "cold":
        cold(module, paths[0], paths[1])
    else:
        warm(module, paths[0], paths[1], int(paths[2]))
