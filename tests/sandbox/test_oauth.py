"""POST /oauth2/token: client credentials for one site instance, tokens scoped and expiring."""

from __future__ import annotations

import pytest

from infra.wix_sandbox import SandboxClient, WixSandbox
from infra.wix_sandbox.clock import ManualClock
from tests.support.sandbox import MakeSandbox, access_token
from tests.support.wix_http import WixHttp

EXPIRED = "the access token has expired: request a new one"


def test_a_token_is_issued_for_the_apps_credentials_and_an_installed_instance(
    wix: WixHttp, sandbox: WixSandbox, site: str
) -> None:
    answer = wix.token_answer(site, sandbox.app_id, sandbox.app_secret)

    assert answer.status == 200
    assert set(answer.body) == {"access_token", "token_type", "expires_in"}
    assert answer.body["token_type"] == "Bearer"
    assert answer.body["expires_in"] == 14400
    assert answer.body["access_token"]


def test_the_app_id_and_secret_are_configurable(make_sandbox: MakeSandbox) -> None:
    sandbox = make_sandbox(app_id="my-app", app_secret="my-secret", token_lifetime_seconds=600)
    wix = WixHttp(sandbox.base_url)
    instance_id = sandbox.client().create_site()

    assert wix.token_answer(instance_id, "my-app", "my-secret").body["expires_in"] == 600
    assert wix.token_answer(instance_id, "my-app", "sandbox-app-secret").status == 401


@pytest.mark.parametrize(
    ("client_id", "client_secret"),
    [("another-app", None), (None, "a wrong secret"), (None, "")],
    ids=["wrong client_id", "wrong client_secret", "empty client_secret"],
)
def test_wrong_credentials_are_refused_with_a_wix_error_body(
    wix: WixHttp, sandbox: WixSandbox, site: str, client_id: str | None, client_secret: str | None
) -> None:
    answer = wix.token_answer(
        site,
        sandbox.app_id if client_id is None else client_id,
        sandbox.app_secret if client_secret is None else client_secret,
    )

    assert 400 <= answer.status < 500
    assert set(answer.body) == {"message", "details"}
    assert answer.error_code or answer.violated_fields


def test_an_instance_the_app_is_not_installed_on_gets_no_token(
    wix: WixHttp, sandbox: WixSandbox
) -> None:
    answer = wix.token_answer(
        "0d1b2c3d-4e5f-4a6b-8c7d-000000000000", sandbox.app_id, sandbox.app_secret
    )

    assert answer.status == 400
    assert answer.error_code == "APP_NOT_INSTALLED"


def test_only_the_client_credentials_grant_is_accepted(
    wix: WixHttp, sandbox: WixSandbox, site: str
) -> None:
    answer = wix.call(
        "POST",
        "/oauth2/token",
        {
            "grant_type": "refresh_token",
            "client_id": sandbox.app_id,
            "client_secret": sandbox.app_secret,
            "instance_id": site,
        },
    )

    assert answer.status == 400
    assert answer.error_code == "UNSUPPORTED_GRANT_TYPE"


def test_a_token_request_without_fields_is_a_validation_error(wix: WixHttp) -> None:
    answer = wix.call("POST", "/oauth2/token", {"grant_type": "client_credentials"})

    assert answer.status == 400
    assert answer.violated_fields == ["client_id"]


def test_a_token_expires_after_its_lifetime(make_sandbox: MakeSandbox) -> None:
    clock = ManualClock()
    sandbox = make_sandbox(clock=clock)
    wix = WixHttp(sandbox.base_url)
    instance_id = sandbox.client().create_site()
    token = access_token(wix, sandbox, instance_id)
    order_id = sandbox.client().create_order(instance_id, generate={})["id"]

    clock.advance(14_399)  # Wix's lifetime, 4 hours, less a second
    assert wix.list_one(token, order_id).status == 200
    clock.advance(1)

    answer = wix.list_one(token, order_id)
    assert (answer.status, answer.body["message"]) == (401, EXPIRED)


def test_the_control_api_expires_tokens_at_once_so_renewal_can_be_tested(
    wix: WixHttp, sandbox: WixSandbox, control: SandboxClient, site: str, token: str
) -> None:
    order_id = control.create_order(site, generate={})["id"]
    other_site = control.create_site()
    other_token = access_token(wix, sandbox, other_site)

    assert control.expire_tokens(site) == 1

    for _ in range(2):  # expired, not forgotten: a client is told so each time
        answer = wix.list_one(token, order_id)
        assert (answer.status, answer.body["message"]) == (401, EXPIRED)
    assert control.expire_tokens(site) == 0
    assert wix.list_by_ids(other_token, [order_id]).status == 200
    renewed = access_token(wix, sandbox, site)
    assert wix.list_one(renewed, order_id).status == 200
