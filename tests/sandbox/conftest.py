"""A fresh sandbox per test (in this process, over HTTP on 127.0.0.1), and ways to call it."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from infra.wix_sandbox import SandboxClient, SandboxConfig, WixSandbox
from infra.wix_sandbox.clock import Clock
from tests.sandbox.wix_http import WixHttp
from tests.webhooks import KeyPair

SAMPLE_FLOW_ORDER_ID = "880fa895-dfd5-4d50-a2d4-971b03fd4b86"
FIRST_LINE_ITEM = "00000000-0000-0000-0000-000000000001"

MakeSandbox = Callable[..., WixSandbox]


@pytest.fixture(scope="session")
def signing_key_pem() -> bytes:
    return KeyPair.generate().private_pem


@pytest.fixture
def make_sandbox(signing_key_pem: bytes) -> Iterator[MakeSandbox]:
    """Start a sandbox with some settings changed (``SandboxConfig``'s names) and, to step
    through rate windows and token lifetimes, its own clock; stopped after."""
    started: list[WixSandbox] = []

    def make(clock: Clock = time.monotonic, **settings: Any) -> WixSandbox:
        config = dataclasses.replace(SandboxConfig(private_key_pem=signing_key_pem), **settings)
        sandbox = WixSandbox(config, clock=clock).start()
        started.append(sandbox)
        return sandbox

    yield make
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def sandbox(make_sandbox: MakeSandbox) -> WixSandbox:
    return make_sandbox()


@pytest.fixture
def control(sandbox: WixSandbox) -> Iterator[SandboxClient]:
    client = sandbox.client()
    yield client
    client.close()


@pytest.fixture
def wix(sandbox: WixSandbox) -> WixHttp:
    return WixHttp(sandbox.base_url)


@pytest.fixture
def site(control: SandboxClient) -> str:
    return control.create_site()


@pytest.fixture
def token(wix: WixHttp, sandbox: WixSandbox, site: str) -> str:
    return access_token(wix, sandbox, site)


def access_token(wix: WixHttp, sandbox: WixSandbox, instance_id: str) -> str:
    answer = wix.token_answer(instance_id, sandbox.app_id, sandbox.app_secret)
    assert answer.status == 200, answer.body
    token: str = answer.body["access_token"]
    return token
