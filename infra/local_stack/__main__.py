"""``make local``: the whole stack in the foreground on fixed ports; Ctrl-C (or SIGTERM) stops all
of it."""

from __future__ import annotations

import argparse

from infra.local_stack.stack import LocalStack, StackSettings
from infra.service import serve_in_foreground


def on_started(stack: LocalStack) -> None:
    print(f"HTTP API        {stack.http_api.base_url}")
    for route in stack.wiring.routes:
        print(f"  {route.route_key:<40} -> {route.function_id}")
    print(f"Wix sandbox     {stack.wix.base_url} (control API under /_sandbox)")
    tables = ", ".join(stack.table_names.values())
    print(f"DynamoDB Local  {stack.dynamodb.endpoint_url}, tables {tables}")
    print(f"Function logs   {stack.settings.work_dir / 'logs'}")
    print(f"Dead letters    {stack.settings.work_dir / 'dead-letters'}")
    for schedule in stack.wiring.schedules:
        every = stack.settings.schedule_every_seconds or schedule.interval_seconds
        print(f"Schedule        {schedule.function_id} every {every:g} s")
    print("Ctrl-C stops everything.", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--http-port", type=int, default=3000)
    parser.add_argument("--sandbox-port", type=int, default=8700)
    parser.add_argument("--dynamodb-port", type=int, default=8000)
    parser.add_argument(
        "--sweep-every",
        type=float,
        default=0,
        help="seconds between ReconcileFunction's sweeps (default: the template's rate)",
    )
    arguments = parser.parse_args()
    settings = StackSettings(
        http_port=arguments.http_port,
        sandbox_port=arguments.sandbox_port,
        dynamodb_port=arguments.dynamodb_port,
        schedule_every_seconds=arguments.sweep_every,
    )
    serve_in_foreground(LocalStack(settings), on_started)
    print("local stack stopped", flush=True)


if __name__ == "__main__":
    main()
