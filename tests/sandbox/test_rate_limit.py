"""Wix's rate limit: N requests per minute per app instance (sliding window), 429 beyond it."""

from __future__ import annotations

from infra.wix_sandbox import SandboxClient
from infra.wix_sandbox.clock import ManualClock
from tests.support.sandbox import MakeSandbox, access_token
from tests.support.wix_http import WixHttp


def test_the_default_is_wixs_200_requests_per_minute(control: SandboxClient) -> None:
    assert control.config()["rateLimitPerMinute"] == 200
    assert control.config()["rateLimitWindowSeconds"] == 60


def test_requests_beyond_the_limit_get_429_and_are_counted(make_sandbox: MakeSandbox) -> None:
    sandbox = make_sandbox(rate_limit_per_minute=5)
    control, wix = sandbox.client(), WixHttp(sandbox.base_url)
    site = control.create_site()
    order_id = control.create_order(site, generate={})["id"]
    token = access_token(wix, sandbox, site)

    statuses = [wix.list_one(token, order_id).status for _ in range(7)]

    assert statuses == [200] * 5 + [429] * 2
    throttled = wix.list_one(token, order_id)
    assert throttled.error_code == "TOO_MANY_REQUESTS"
    assert "retry-after" not in {name.lower() for name in throttled.headers}
    stats = control.stats()
    assert stats["throttled"] == 3
    assert stats["throttledByRateLimit"] == 3
    assert stats["calls"]["list"] == {"200": 5, "429": 3}


def test_the_limit_is_per_instance_and_token_requests_are_not_limited(
    make_sandbox: MakeSandbox,
) -> None:
    sandbox = make_sandbox(rate_limit_per_minute=2)
    control, wix = sandbox.client(), WixHttp(sandbox.base_url)
    busy, quiet = control.create_site(), control.create_site()
    busy_order = control.create_order(busy, generate={})["id"]
    quiet_order = control.create_order(quiet, generate={})["id"]
    busy_token = access_token(wix, sandbox, busy)
    for _ in range(3):
        wix.list_one(busy_token, busy_order)

    assert wix.list_one(busy_token, busy_order).status == 429
    assert wix.list_one(access_token(wix, sandbox, quiet), quiet_order).status == 200
    assert wix.token_answer(busy, sandbox.app_id, sandbox.app_secret).status == 200


def test_the_window_slides_so_a_client_that_waits_gets_through(make_sandbox: MakeSandbox) -> None:
    clock = ManualClock()
    sandbox = make_sandbox(clock=clock, rate_limit_per_minute=3)
    control, wix = sandbox.client(), WixHttp(sandbox.base_url)
    site = control.create_site()
    order_id = control.create_order(site, generate={})["id"]
    token = access_token(wix, sandbox, site)

    def status_at(seconds: float) -> int:
        """The answer to a call made ``seconds`` after the first one."""
        clock.advance(seconds - clock())
        return wix.list_one(token, order_id).status

    assert [status_at(0), status_at(20), status_at(40), status_at(59.9)] == [200, 200, 200, 429]
    # A fixed minute would let the next three through at 60; the window drops one call at a time.
    assert [status_at(60), status_at(60), status_at(79.9), status_at(80)] == [200, 429, 429, 200]


def test_the_limit_can_be_changed_at_run_time(
    wix: WixHttp, control: SandboxClient, site: str, token: str
) -> None:
    order_id = control.create_order(site, generate={})["id"]

    control.configure(rateLimitPerMinute=1)

    assert [wix.list_one(token, order_id).status for _ in range(2)] == [200, 429]
