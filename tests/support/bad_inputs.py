"""The bad-input corpus: crafted webhook deliveries, each with the answer it must get.

The cases are data (a name, the expected status, and how to build the delivery); tokens are signed
at run time with the test session's key, everything else is fixed, so a run is reproducible.
The expected statuses follow the wire contract (README "Answers", design.md):

- 401: the body is not a JWT signed RS256 with the app's key, unexpired, whose payload is a JSON
  claims set. A genuinely signed payload that is not a JSON object in UTF-8, or whose ``exp`` is
  not a number, is a bad token too: the verifier refuses it before the event is read.
- 400: a verified token whose ``data`` content is not a well-formed Order Approved event. Anything
  stored must be valid text (no lone surrogates or control characters) of bounded size, and wrong
  JSON types are refused, not coerced: a ``shippable: "true"`` read as not shippable would lose a
  shipment without a word.
- 413: a body over the limit, counted in bytes (after base64 decoding), refused unread.
- 200 ``ignored``: another event type, or an anonymize request, whatever else it holds.

None of them may be stored. Values a request controls carry the marker ``CANARY`` where they are
text, so a test can tell the answer never repeats them.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import jwt
from jwt.algorithms import RSAAlgorithm

from tests.support.webhooks import (
    INSTANCE_ID,
    RS256_HEADER,
    SEED_EVENT_ID,
    Delivery,
    KeyPair,
    Raw,
    b64url,
    sign_raw,
    to_json,
    valid_claims,
)
from wix_fulfillment.adapters.settings import DEFAULT_MAX_WEBHOOK_BODY_BYTES

LIMIT: Final = DEFAULT_MAX_WEBHOOK_BODY_BYTES
DEEP: Final = 100_000
"""Nesting depth far past the JSON parser's recursion limit."""


@dataclass(frozen=True)
class BadInput:
    name: str
    status: int
    deliver: Callable[[KeyPair, KeyPair], Delivery]
    """Builds the delivery from the app's keys and another key pair."""


_DELETE: Final = object()
Path = tuple[str | int, ...]
Change = Callable[[Any], None]
ORDER: Final[Path] = ("actionEvent", "body", "order")
LINE: Final[Path] = (*ORDER, "lineItems", 0)


def put(path: Path, value: Any) -> Change:
    """Set (or, with ``_DELETE``, remove) the value at ``path`` of a decoded JSON document."""

    def change(document: Any) -> None:
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        if value is _DELETE:
            del parent[path[-1]]
        else:
            parent[path[-1]] = value

    return change


def _unchanged(document: Any) -> None:
    return None


def signed(
    keys: KeyPair,
    *,
    envelope: Change = _unchanged,
    webhook: Change = _unchanged,
    claims: Change = _unchanged,
) -> Delivery:
    """A genuinely signed delivery of the seed order, changed at the layers Wix nests: the claims,
    the webhook in the ``data`` claim, and the event envelope in the webhook's ``data``."""
    claims_value = valid_claims()
    webhook_value = json.loads(claims_value["data"])
    envelope_value = json.loads(webhook_value["data"])
    envelope(envelope_value)
    webhook_value["data"] = to_json(envelope_value)
    webhook(webhook_value)
    claims_value["data"] = to_json(webhook_value)
    claims(claims_value)
    return Delivery(sign_raw(keys, RS256_HEADER, to_json(claims_value).encode()))


def _good_token(keys: KeyPair) -> str:
    return signed(keys).body or ""


def _base64(raw: bytes) -> Delivery:
    return Delivery(base64.b64encode(raw).decode("ascii"), base64_encoded=True)


def _envelope(name: str, change: Change, status: int = 400) -> BadInput:
    return BadInput(name, status, lambda keys, other: signed(keys, envelope=change))


def _webhook(name: str, change: Change, status: int = 400) -> BadInput:
    return BadInput(name, status, lambda keys, other: signed(keys, webhook=change))


def _claims(name: str, change: Change, status: int) -> BadInput:
    return BadInput(name, status, lambda keys, other: signed(keys, claims=change))


def _token(name: str, make: Callable[[KeyPair], str]) -> BadInput:
    return BadInput(name, 401, lambda keys, other: Delivery(make(keys)))


def _body(name: str, status: int, make: Callable[[KeyPair], Delivery]) -> BadInput:
    return BadInput(name, status, lambda keys, other: make(keys))


def _duplicate_first_line(envelope: Any) -> None:
    line_items = envelope["actionEvent"]["body"]["order"]["lineItems"]
    line_items.append(dict(line_items[0]))


def _anonymized_with_junk(envelope: Any) -> None:
    envelope["triggeredByAnonymizeRequest"] = True
    envelope["actionEvent"] = "CANARY"


def _rs512(keys: KeyPair) -> str:
    return jwt.encode(valid_claims(), keys.private_key, algorithm="RS512")


def _claims_bytes(**changes: Any) -> bytes:
    return to_json(valid_claims() | changes).encode()


def _forged_with_key_in_header(header_field: str) -> Callable[[KeyPair, KeyPair], Delivery]:
    """Signed with the forger's key, which the header offers (as a JWK, or a URL to fetch it
    from): a verifier that trusts the token to name its own key would accept it."""

    def forge(keys: KeyPair, other: KeyPair) -> Delivery:
        jwk = json.loads(RSAAlgorithm.to_jwk(other.private_key.public_key()))
        offered = jwk if header_field == "jwk" else "https://CANARY.example/jwks.json"
        header = {"alg": "RS256", "typ": "JWT", header_field: offered}
        return Delivery(sign_raw(other, to_json(header).encode(), _claims_bytes()))

    return forge


def _padded_token_over_limit(keys: KeyPair) -> str:
    """A genuine token of the seed order, grown past the limit by a claim nobody reads."""
    claims = valid_claims() | {"padding": "CANARY" * (LIMIT // 6)}
    return sign_raw(keys, RS256_HEADER, to_json(claims).encode())


def _insert(text: str, at: int, extra: str) -> str:
    return text[:at] + extra + text[at:]


def _insert_bytes(data: bytes, at: int, extra: bytes) -> bytes:
    return data[:at] + extra + data[at:]


_NESTED: Final = "[" * DEEP + "]" * DEEP

LINE_ITEM_CASES: Final[Sequence[tuple[str, Path, Any]]] = [
    ("line_item_a_string", LINE, "CANARY"),
    ("line_item_null", LINE, None),
    ("line_item_id_missing", (*LINE, "id"), _DELETE),
    ("line_item_id_a_number", (*LINE, "id"), 1),
    ("line_item_id_101_characters", (*LINE, "id"), "CANARY" + "x" * 95),
    ("line_item_id_100k_characters", (*LINE, "id"), "CANARY" * 16_667),
    ("line_item_id_with_null_byte", (*LINE, "id"), "CANARY\x00"),
    ("line_item_id_not_ascii", (*LINE, "id"), "CANARY-\u00fc"),
    ("line_item_id_lone_surrogate", (*LINE, "id"), "CANARY\ud800"),
    ("quantity_negative", (*LINE, "quantity"), -1),
    ("quantity_a_fraction", (*LINE, "quantity"), 1.5),
    ("quantity_a_whole_float", (*LINE, "quantity"), 2.0),
    ("quantity_true", (*LINE, "quantity"), True),
    ("quantity_a_string", (*LINE, "quantity"), "1"),
    ("quantity_null", (*LINE, "quantity"), None),
    ("quantity_over_100000", (*LINE, "quantity"), 100_001),
    ("quantity_huge_integer", (*LINE, "quantity"), 10**30),
    ("quantity_5000_digits", (*LINE, "quantity"), Raw("9" * 5000)),
    ("quantity_nan", (*LINE, "quantity"), math.nan),
    ("quantity_infinity", (*LINE, "quantity"), math.inf),
    ("shippable_a_string", (*LINE, "physicalProperties", "shippable"), "true"),
    ("physical_properties_a_string", (*LINE, "physicalProperties"), "CANARY"),
    ("item_type_a_string", (*LINE, "itemType"), "PHYSICAL"),
    ("item_type_preset_a_number", (*LINE, "itemType", "preset"), 1),
    ("item_type_preset_450k_characters", (*LINE, "itemType", "preset"), "CANARY" * 75_000),
    ("item_type_custom_lone_surrogate", (*LINE, "itemType"), {"custom": "CANARY\ud800"}),
]
"""One line item's fields, wrong: each is a verified token with malformed content (400)."""

ENVELOPE_CASES: Final[Sequence[tuple[str, Path, Any]]] = [
    ("event_id_with_a_newline", ("id",), SEED_EVENT_ID + "\n"),
    ("entity_id_missing", ("entityId",), _DELETE),
    ("entity_id_a_number", ("entityId",), 10002),
    ("action_event_missing", ("actionEvent",), _DELETE),
    ("action_event_body_a_string", ("actionEvent", "body"), "CANARY"),
    ("order_a_list", ORDER, ["CANARY"]),
    ("order_id_null", (*ORDER, "id"), None),
    ("line_items_missing", (*ORDER, "lineItems"), _DELETE),
    ("line_items_empty", (*ORDER, "lineItems"), []),
    ("line_items_an_object", (*ORDER, "lineItems"), {"0": {"id": "CANARY", "quantity": 1}}),
    (
        "line_items_1000",
        (*ORDER, "lineItems"),
        [{"id": f"l{n}", "quantity": 1} for n in range(1000)],
    ),
    ("order_number_a_fraction", (*ORDER, "number"), 10002.5),
    ("order_number_true", (*ORDER, "number"), True),
    ("order_number_a_list", (*ORDER, "number"), ["CANARY"]),
    ("order_number_huge_integer", (*ORDER, "number"), 10**100),
    ("order_number_lone_surrogate", (*ORDER, "number"), "CANARY\udc00"),
    ("order_number_with_null_byte", (*ORDER, "number"), "CANARY\x00"),
    ("event_time_an_object", ("eventTime",), {"CANARY": 1}),
    ("event_time_120_characters", ("eventTime",), "CANARY" * 20),
    ("anonymize_flag_a_string", ("triggeredByAnonymizeRequest",), "true"),
    ("deeply_nested_field_in_the_order", (*ORDER, "customFields"), Raw(_NESTED)),
]
"""The event envelope and the order, wrong: verified, malformed (400)."""

WEBHOOK_CASES: Final[Sequence[tuple[str, Path, Any, int]]] = [
    ("event_type_missing", ("eventType",), _DELETE, 400),
    ("event_type_a_number", ("eventType",), 42, 400),
    ("event_type_null", ("eventType",), None, 400),
    (
        "event_type_order_updated",
        ("eventType",),
        "wix.ecom.v1.order_updated",
        200,
    ),
    ("event_type_empty", ("eventType",), "", 200),
    ("event_type_upper_case", ("eventType",), "WIX.ECOM.V1.ORDER_APPROVED", 200),
    ("event_type_with_null_byte", ("eventType",), "wix.ecom.v1.order_approved\x00", 200),
    ("event_type_900k_characters", ("eventType",), "CANARY" * 150_000, 200),
    ("instance_id_missing", ("instanceId",), _DELETE, 400),
    ("instance_id_a_number", ("instanceId",), 42, 400),
    ("instance_id_with_null_byte", ("instanceId",), INSTANCE_ID + "\x00", 400),
    ("inner_data_missing", ("data",), _DELETE, 400),
    ("inner_data_an_object", ("data",), {"id": "CANARY"}, 400),
    ("inner_data_empty", ("data",), "", 400),
    ("inner_data_nan", ("data",), "NaN", 400),
]
"""The webhook in the ``data`` claim, wrong: unexpected event types are acknowledged (200)."""

CLAIMS_CASES: Final[Sequence[tuple[str, Path, Any, int]]] = [
    ("data_claim_empty", ("data",), "", 400),
    ("data_claim_json_null", ("data",), "null", 400),
    ("data_claim_json_array", ("data",), "[]", 400),
    ("data_claim_a_number", ("data",), 42, 400),
    ("data_claim_with_nan", ("data",), '{"eventType": NaN}', 400),
    ("data_claim_deeply_nested", ("data",), '{"CANARY": ' + _NESTED + "}", 400),
    ("exp_null", ("exp",), None, 401),
    ("exp_nan", ("exp",), math.nan, 401),
    ("exp_infinity", ("exp",), math.inf, 401),
    ("exp_5000_digits", ("exp",), Raw("9" * 5000), 401),
]
"""The claims: ``exp`` makes the token (401), ``data`` is its content (400)."""

TOKEN_CASES: Final[Sequence[tuple[str, Callable[[KeyPair], str]]]] = [
    ("truncated_signature", lambda keys: _good_token(keys)[:-10]),
    ("truncated_in_the_payload", lambda keys: _good_token(keys)[:400]),
    ("signature_segment_empty", lambda keys: _good_token(keys).rsplit(".", 1)[0] + "."),
    ("extra_segment", lambda keys: _good_token(keys) + ".CANARY"),
    ("signed_rs512_with_the_app_key", _rs512),
    ("header_without_alg", lambda keys: sign_raw(keys, b'{"typ":"JWT"}', _claims_bytes())),
    ("header_not_json", lambda keys: sign_raw(keys, b"CANARY", _claims_bytes())),
    ("header_deeply_nested", lambda keys: sign_raw(keys, _NESTED.encode(), _claims_bytes())),
    (
        "header_kid_a_number",
        lambda keys: sign_raw(keys, b'{"alg":"RS256","kid":1}', _claims_bytes()),
    ),
    (
        "header_unknown_critical_extension",
        lambda keys: sign_raw(keys, b'{"alg":"RS256","crit":["CANARY"]}', _claims_bytes()),
    ),
    ("payload_not_json", lambda keys: sign_raw(keys, RS256_HEADER, b"CANARY")),
    ("payload_a_json_array", lambda keys: sign_raw(keys, RS256_HEADER, b"[]")),
    (
        "payload_in_utf16",
        lambda keys: sign_raw(keys, RS256_HEADER, _claims_bytes().decode().encode("utf-16")),
    ),
    (
        "payload_deeply_nested",
        lambda keys: sign_raw(keys, RS256_HEADER, b'{"CANARY":' + _NESTED.encode() + b"}"),
    ),
    (
        "payload_not_utf8",
        lambda keys: sign_raw(keys, RS256_HEADER, _claims_bytes()[:-1] + b', "x": "\xff\xfe"}'),
    ),
    ("token_with_a_null_byte", lambda keys: _insert(_good_token(keys), 30, "\x00")),
    ("token_with_a_lone_surrogate", lambda keys: _good_token(keys) + "\ud800"),
    ("only_dots", lambda keys: ".."),
    (
        "segments_of_two_tokens",
        lambda keys: ".".join(
            [*_good_token(keys).split(".")[:2], b64url(b"CANARY" * 43)],
        ),
    ),
]
"""Tokens that are not the app's, not JWTs, or not whole: all 401."""

BODY_CASES: Final[Sequence[tuple[str, int, Callable[[KeyPair], Delivery]]]] = [
    ("body_absent", 401, lambda keys: Delivery(None)),
    # No exp is no fault (Wix's SDK checks it only when present): a signed {} lacks its data.
    ("payload_empty_object", 400, lambda keys: Delivery(sign_raw(keys, RS256_HEADER, b"{}"))),
    ("base64_flag_on_a_plain_token", 401, lambda keys: Delivery(_good_token(keys), True)),
    ("base64_invalid_characters", 401, lambda keys: Delivery("!!!CANARY!!!", True)),
    ("base64_not_ascii", 401, lambda keys: Delivery("CANARY-\u00e9t\u00e9", True)),
    (
        "base64_padding_cut",
        401,
        lambda keys: Delivery(base64.b64encode(b"CANARY-x").decode()[:-1], True),
    ),
    ("base64_of_random_bytes", 401, lambda keys: _base64(bytes(range(256)) * 8)),
    (
        "base64_token_with_invalid_utf8",
        401,
        lambda keys: _base64(_insert_bytes(_good_token(keys).encode(), 20, b"\xff\xfe")),
    ),
    ("base64_token_in_utf16", 401, lambda keys: _base64(_good_token(keys).encode("utf-16"))),
    (
        "base64_token_with_a_utf8_bom",
        401,
        lambda keys: _base64(b"\xef\xbb\xbf" + _good_token(keys).encode()),
    ),
    ("plain_body_at_the_limit", 401, lambda keys: Delivery("x" * LIMIT)),
    ("plain_body_one_byte_over_the_limit", 413, lambda keys: Delivery("x" * (LIMIT + 1))),
    (
        "plain_body_over_the_limit_in_utf8_bytes_only",
        413,
        lambda keys: Delivery("\u00e9" * (LIMIT // 2 + 1)),
    ),
    ("base64_body_at_the_limit", 401, lambda keys: _base64(b"x" * LIMIT)),
    ("base64_body_one_byte_over_the_limit", 413, lambda keys: _base64(b"x" * (LIMIT + 1))),
    (
        "signed_token_over_the_limit",
        413,
        lambda keys: Delivery(_padded_token_over_limit(keys)),
    ),
]
"""Encodings and sizes of the body itself."""


def corpus() -> list[BadInput]:
    """Every case, in a fixed order; names are unique."""
    cases = [
        *(_envelope(name, put(path, value)) for name, path, value in LINE_ITEM_CASES),
        *(_envelope(name, put(path, value)) for name, path, value in ENVELOPE_CASES),
        _envelope("duplicate_line_item_ids", _duplicate_first_line),
        _envelope("anonymize_request_with_a_junk_order", _anonymized_with_junk, 200),
        *(_webhook(name, put(path, value), status) for name, path, value, status in WEBHOOK_CASES),
        *(_claims(name, put(path, value), status) for name, path, value, status in CLAIMS_CASES),
        _claims("nbf_an_hour_ahead", lambda claims: claims.update(nbf=claims["iat"] + 3600), 401),
        *(_token(name, make) for name, make in TOKEN_CASES),
        BadInput("forged_with_its_jwk_in_the_header", 401, _forged_with_key_in_header("jwk")),
        BadInput("forged_with_a_jku_in_the_header", 401, _forged_with_key_in_header("jku")),
        *(_body(name, status, make) for name, status, make in BODY_CASES),
    ]
    names = [case.name for case in cases]
    assert len(set(names)) == len(names), "case names must be unique"
    return cases
