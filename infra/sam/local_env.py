"""What ``sam local invoke`` gives a function, read from the template and ``infra/env.json``.

SAM passes a function only the environment variables the template declares for it (in
``Globals`` or the function); an env-vars file can set their values, per function or for all
under ``Parameters``. Template values that are intrinsics (``!Ref`` ...) resolve to nothing locally.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from infra.local_stack.env_file import ENV_VARS_PATH, env_file_values
from infra.local_stack.wiring import read_wiring
from infra.template import resource_properties


def function_handler(template: Mapping[str, Any], function_id: str) -> str:
    handler: str = resource_properties(template, function_id)["Handler"]
    return handler


def function_environment(
    template: Mapping[str, Any], function_id: str, env_vars_path: Path = ENV_VARS_PATH
) -> dict[str, str]:
    declared = read_wiring(template).functions[function_id].environment
    overrides = env_file_values(env_vars_path, function_id)
    return {
        name: str(overrides.get(name, value if isinstance(value, str) else ""))
        for name, value in declared.items()
    }
