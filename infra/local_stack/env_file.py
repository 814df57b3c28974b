"""``sam local invoke``'s env-vars file (``infra/env.json``), read as SAM reads it: the local
stack takes values from it the same way, so the two runs of a function get the same settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

ENV_VARS_PATH: Final = Path(__file__).resolve().parents[1] / "env.json"


def env_file_values(env_vars_path: Path, function_id: str) -> dict[str, Any]:
    """What an env-vars file sets for a function: ``Parameters`` for all, then its own section."""
    env_vars = json.loads(env_vars_path.read_text(encoding="utf-8"))
    return {**env_vars.get("Parameters", {}), **env_vars.get(function_id, {})}
