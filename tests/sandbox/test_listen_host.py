"""The sandbox listens where it is told, on this machine only: loopback by default, or a private
address of its own (Docker's bridge, for sam local's containers), never every interface."""

from __future__ import annotations

import pytest

from infra.wix_sandbox import SandboxConfig, WixSandbox
from infra.wix_sandbox.config import listen_host


def test_the_sandbox_listens_on_loopback_by_default() -> None:
    with WixSandbox(SandboxConfig()) as sandbox:
        assert sandbox.base_url.startswith("http://127.0.0.1:")
        assert sandbox.client().health()


@pytest.mark.parametrize("host", ["127.0.0.1", "172.17.0.1", "10.1.2.3", "::1"])
def test_loopback_and_private_addresses_are_accepted(host: str) -> None:
    assert listen_host(host) == host


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "8.8.8.8", "localhost", ""])  # noqa: S104
def test_every_interface_public_addresses_and_names_are_refused(host: str) -> None:
    with pytest.raises(ValueError, match="listen host"):
        listen_host(host)
