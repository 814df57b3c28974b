"""The Wix sandbox: a faithful local stand-in for the Wix APIs, over real HTTP on 127.0.0.1.

``WixSandbox`` runs it in this process (tests); ``SandboxProcess`` runs ``python -m
infra.wix_sandbox`` as a child (the local stack); ``SandboxClient`` drives its control API.
"""

from infra.wix_sandbox.client import SandboxClient, SandboxControlError
from infra.wix_sandbox.config import SandboxConfig
from infra.wix_sandbox.faults import FaultSpec
from infra.wix_sandbox.process import SandboxProcess, SandboxProcessError
from infra.wix_sandbox.sandbox import WixSandbox

__all__ = [
    "FaultSpec",
    "SandboxClient",
    "SandboxConfig",
    "SandboxControlError",
    "SandboxProcess",
    "SandboxProcessError",
    "WixSandbox",
]
