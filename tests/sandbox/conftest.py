"""A fresh sandbox per test (in this process, over HTTP on 127.0.0.1), and ways to call it."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from typing import Any

import pytest

from infra.wix_sandbox import SandboxClient, SandboxConfig, WixSandbox
from infra.wix_sandbox.clock import Clock
from tests.support.sandbox import MakeSandbox, access_token
from tests.support.webhooks import KeyPair
from tests.support.wix_http import WixHttp


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
