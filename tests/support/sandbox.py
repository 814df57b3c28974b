"""The in-process Wix sandbox as tests use it."""

from __future__ import annotations

from collections.abc import Callable

from infra.wix_sandbox import WixSandbox
from tests.support.wix_http import WixHttp

SAMPLE_FLOW_ORDER_ID = "880fa895-dfd5-4d50-a2d4-971b03fd4b86"
FIRST_LINE_ITEM = "00000000-0000-0000-0000-000000000001"

MakeSandbox = Callable[..., WixSandbox]


def access_token(wix: WixHttp, sandbox: WixSandbox, instance_id: str) -> str:
    answer = wix.token_answer(instance_id, sandbox.app_id, sandbox.app_secret)
    assert answer.status == 200, answer.body
    token: str = answer.body["access_token"]
    return token
