"""Lambda handlers as the tests call them, and the logs they write as Lambda would ship them."""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
ColdStart = Callable[[Sequence[str], Mapping[str, str]], Handler]


@contextlib.contextmanager
def function_log(logger_name: str) -> Iterator[io.StringIO]:
    """The JSON lines a function's Powertools logger writes, as Lambda would ship them: its
    handler keeps the stream it first had, so pytest's capture of a later test misses them."""
    [handler] = logging.getLogger(logger_name).handlers
    assert isinstance(handler, logging.StreamHandler)
    lines = io.StringIO()
    previous = handler.setStream(lines)
    try:
        yield lines
    finally:
        handler.setStream(previous)
