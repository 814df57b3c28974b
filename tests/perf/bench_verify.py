"""Benchmark 1 of issue 7: verify and parse one webhook, ours vs the Wix JS SDK vs the floor.

Three tokens, all signed RS256 with the development key: the seed payload's (Wix's documentation
example, the body of ``infra/events/order_approved.json``) and the same envelope grown to 300 line
items (the most an order may have), compact and pretty-printed as Wix writes its webhooks. Each
is measured three ways, in turns, as medians of every call in this run:

- ours: what WebhookFunction runs per delivery, ``WebhookVerifier.verified_claims`` then
  ``parse_webhook_claims``, with the verifier built once as at cold start;
- the SDK: ``@wix/sdk``'s ``client.webhooks.parseJWT`` under Node (``tests/perf/node``), the
  client built once, as an app's endpoint would;
- the floor: the least any verifier must do, directly in Python: the raw RSA-SHA256 verify of
  the signing input, the base64url decodes and the three JSON parses, no checks.
"""

from __future__ import annotations

import base64
import copy
import json
import shutil
import statistics
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from infra.sam.sample_events import EXPIRES_AT, ISSUED_AT, order_approved_event
from infra.samples.dev_data import (
    DEV_INSTANCE_ID,
    DEV_PRIVATE_KEY_PATH,
    DEV_PUBLIC_KEY_PATH,
    seed_envelope,
)
from infra.samples.webhook_signing import sign_wix_webhook, wix_webhook_claims
from infra.wix_sandbox.config import DEFAULT_APP_ID
from tests.perf.figures import Row
from tests.perf.figures import timings as measured_timings
from wix_fulfillment.adapters.wix_webhook import WebhookVerifier, load_webhook_public_key
from wix_fulfillment.core.model import ApprovedOrder
from wix_fulfillment.core.order_event import MAX_LINE_ITEMS, parse_webhook_claims

NODE_DIR: Final = Path(__file__).resolve().parent / "node"
NODE_SCRIPT: Final = NODE_DIR / "parse_jwt.mjs"
SDK_NAME: Final = "Wix JS SDK parseJWT"
FLOOR_NAME: Final = "floor (raw RSA + base64 + JSON)"
ROUNDS: Final = 5
TARGET_RATIO: Final = 0.5
"""Issue 7: ours at most half the SDK's time."""
WARMUP: Final = 20


class Case:
    """One token to verify, how many line items it holds, and how to show its figures."""

    def __init__(self, name: str, token: str, line_items: int, unit: str, repeat: int) -> None:
        self.name = name
        self.token = token
        self.line_items = line_items
        self.unit = unit
        self.scale = {"µs": 1e6, "ms": 1e3}[unit]
        self.repeat = repeat

    @property
    def title(self) -> str:
        return f"verify + parse, {self.name} ({len(self.token) / 1024:,.0f} KiB JWT)"


def large_order_token(line_items: int = MAX_LINE_ITEMS, *, pretty: bool = False) -> str:
    """The seed envelope with ``line_items`` lines (copies of its own, each with its own id),
    signed as the seed event is: the biggest Order Approved webhook an order can make
    (``pretty``: its nested JSON indented as Wix writes it)."""
    envelope = seed_envelope()
    order = envelope["actionEvent"]["body"]["order"]
    template = order["lineItems"][0]
    lines = []
    for number in range(line_items):
        line = copy.deepcopy(template)
        line["id"] = f"00000000-0000-4000-8000-{number:012x}"
        lines.append(line)
    order["lineItems"] = lines
    claims = wix_webhook_claims(
        envelope,
        instance_id=DEV_INSTANCE_ID,
        issued_at=ISSUED_AT,
        expires_at=EXPIRES_AT,
        pretty=pretty,
    )
    private_key = load_pem_private_key(DEV_PRIVATE_KEY_PATH.read_bytes(), password=None)
    assert isinstance(private_key, RSAPrivateKey)
    return sign_wix_webhook(claims, private_key)


def cases() -> list[Case]:
    seed_token: str = order_approved_event()["body"]
    return [
        Case("seed webhook", seed_token, 1, "µs", repeat=2000),
        Case(f"{MAX_LINE_ITEMS}-line-item order", large_order_token(), MAX_LINE_ITEMS, "ms", 200),
        Case(
            f"{MAX_LINE_ITEMS}-line-item order, pretty-printed as Wix sends it",
            large_order_token(pretty=True),
            MAX_LINE_ITEMS,
            "ms",
            200,
        ),
    ]


def ours(public_pem: str, token: bytes, line_items: int) -> Callable[[], object]:
    verifier = WebhookVerifier(load_webhook_public_key(public_pem))

    def verify_and_parse() -> object:
        order = parse_webhook_claims(verifier.verified_claims(token))
        assert isinstance(order, ApprovedOrder)
        assert len(order.line_items) == line_items
        return order

    return verify_and_parse


def _b64url(segment: bytes) -> bytes:
    return base64.urlsafe_b64decode(segment + b"=" * (-len(segment) % 4))


def floor(public_key: RSAPublicKey, token: bytes, line_items: int) -> Callable[[], object]:
    """No checks but the signature: what no correct verifier can do without."""

    def verify_and_parse() -> object:
        signing_input, _, signature = token.rpartition(b".")
        header_segment, _, payload_segment = signing_input.partition(b".")
        json.loads(_b64url(header_segment).decode())
        public_key.verify(_b64url(signature), signing_input, padding.PKCS1v15(), hashes.SHA256())
        # json.loads(bytes) would sniff the encoding and decode more slowly: decode UTF-8 first.
        claims = json.loads(_b64url(payload_segment).decode())
        webhook = json.loads(claims["data"])
        envelope = json.loads(webhook["data"])
        assert len(envelope["actionEvent"]["body"]["order"]["lineItems"]) == line_items
        return envelope

    return verify_and_parse


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise SystemExit("bench_verify: Node.js is needed to measure the Wix JS SDK")
    if not (NODE_DIR / "node_modules" / "@wix" / "sdk").is_dir():
        raise SystemExit(
            "bench_verify: the Wix JS SDK is not installed: npm ci --prefix tests/perf/node"
            " (make bench does it)"
        )
    return node


def sdk_timings(node: str, public_pem: str, case: Case, repeat: int) -> list[float]:
    """Seconds of each of ``repeat`` ``parseJWT`` calls, after a warmup, in a child Node."""
    request = {
        "publicKey": public_pem,
        "appId": DEFAULT_APP_ID,
        "repeat": repeat,
        "warmup": WARMUP,
        "tokens": {case.name: {"token": case.token, "lineItems": case.line_items}},
    }
    finished = subprocess.run(
        [node, str(NODE_SCRIPT)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=NODE_DIR,
        check=False,
        timeout=600,
    )
    if finished.returncode != 0:
        raise SystemExit(f"bench_verify: the SDK run failed:\n{finished.stderr}")
    timings: list[float] = json.loads(finished.stdout)[case.name]
    return timings


def run(rounds: int = ROUNDS) -> list[Row]:
    """Each case's three ways take turns, ``rounds`` times: a machine whose speed drifts
    during the run (other load, frequency changes) weighs on all three alike."""
    node = _node()
    public_pem = DEV_PUBLIC_KEY_PATH.read_text(encoding="ascii")
    public_key = load_webhook_public_key(public_pem)
    rows: list[Row] = []
    for case in cases():
        token = case.token.encode("ascii")
        ways = {
            "ours": ours(public_pem, token, case.line_items),
            "floor": floor(public_key, token, case.line_items),
        }
        timings: dict[str, list[float]] = {"ours": [], "floor": [], "sdk": []}
        per_round = max(1, case.repeat // rounds)
        for _ in range(rounds):
            timings["sdk"] += sdk_timings(node, public_pem, case, per_round)
            for name, action in ways.items():
                timings[name] += measured_timings(action, per_round, WARMUP)
        ours_figure, sdk_figure, floor_figure = (
            statistics.median(timings[name]) * case.scale for name in ("ours", "sdk", "floor")
        )
        note = "Node, same run"
        if floor_figure / sdk_figure > TARGET_RATIO:
            # The target is out of reach of any Python verifier: say so beside it.
            note += f"; the floor alone is {floor_figure / sdk_figure:.2f}x the SDK"
        rows.append(
            Row(
                case.title,
                ours_figure,
                case.unit,
                SDK_NAME,
                sdk_figure,
                target_ratio=TARGET_RATIO,
                note=note,
            )
        )
        rows.append(Row(case.title, ours_figure, case.unit, FLOOR_NAME, floor_figure))
    return rows


if __name__ == "__main__":
    from tests.perf.figures import markdown_table

    print(markdown_table(run()))
