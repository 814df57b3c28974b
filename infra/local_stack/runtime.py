"""One function's execution environment: ``python -m infra.local_stack.runtime <handler>``.

As Lambda's runtime does, it imports the handler once (the init phase, before any event), then
serves invocations one at a time. Requests arrive on stdin, answers leave on the file descriptor
given by ``--answers-fd`` (stdout and stderr stay the function's own, for its logs), one JSON
object a line: ``{"event", "timeoutSeconds", "requestId"}`` in; ``{"result"}`` or
``{"errorType", "errorMessage"}`` out, as Lambda reports an unhandled error.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
import traceback
from typing import Any, Final

MEMORY_LIMIT_MB: Final = 512


class LambdaContext:
    """The parts of Lambda's context object handlers and Powertools read."""

    def __init__(self, function_name: str, request_id: str, timeout_seconds: float) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.aws_request_id = request_id
        self.memory_limit_in_mb = MEMORY_LIMIT_MB
        self.invoked_function_arn = (
            f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        )
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.monotonic()) * 1000), 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("handler", help="module.function, as the template's Handler")
    parser.add_argument("--function-name", required=True)
    parser.add_argument("--answers-fd", type=int, required=True)
    arguments = parser.parse_args()
    module_name, function_name = arguments.handler.rsplit(".", 1)
    handler = getattr(importlib.import_module(module_name), function_name)
    with os.fdopen(arguments.answers_fd, "w", encoding="utf-8") as answers:
        answers.write(json.dumps({"ready": True}) + "\n")
        answers.flush()
        for line in sys.stdin:
            request = json.loads(line)
            context = LambdaContext(
                arguments.function_name, request["requestId"], request["timeoutSeconds"]
            )
            answer: dict[str, Any]
            try:
                answer = {"result": handler(request["event"], context)}
            except Exception as error:  # any error: reported as Lambda reports an unhandled one
                traceback.print_exc()
                answer = {"errorType": type(error).__name__, "errorMessage": str(error)}
            sys.stdout.flush()
            answers.write(json.dumps(answer) + "\n")
            answers.flush()


if __name__ == "__main__":
    main()
