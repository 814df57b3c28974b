"""The plan: remaining quantity per fulfillable line item (pure)."""

from __future__ import annotations

from wix_fulfillment.core.fulfillment_plan import FulfillmentPolicy, remaining_lines
from wix_fulfillment.core.model import ExistingFulfillment, FulfilledLine, LineItem

PHYSICAL_ONLY = FulfillmentPolicy(frozenset({"PHYSICAL"}))


def physical(item_id: str, quantity: int) -> LineItem:
    return LineItem(item_id, quantity, shippable=True, item_type="PHYSICAL")


def test_nothing_fulfilled_yet_plans_everything_shippable() -> None:
    ordered = [physical("a", 2), LineItem("b", 1, shippable=False, item_type="DIGITAL")]

    assert remaining_lines(ordered, [], PHYSICAL_ONLY) == (FulfilledLine("a", 2),)


def test_prior_fulfillments_are_subtracted_across_fulfillments() -> None:
    ordered = [physical("a", 5), physical("b", 1), physical("c", 2)]
    existing = [
        ExistingFulfillment("f1", (FulfilledLine("a", 2), FulfilledLine("b", 1))),
        ExistingFulfillment("f2", (FulfilledLine("a", 1),)),
    ]

    assert remaining_lines(ordered, existing, PHYSICAL_ONLY) == (
        FulfilledLine("a", 2),
        FulfilledLine("c", 2),
    )


def test_over_fulfilled_lines_never_plan_a_negative_quantity() -> None:
    existing = [ExistingFulfillment("f1", (FulfilledLine("a", 9),))]

    assert remaining_lines([physical("a", 3)], existing, PHYSICAL_ONLY) == ()


def test_policy_needs_shippable_and_a_configured_type() -> None:
    shippable_custom = LineItem("c", 1, shippable=True, item_type="custom:mug")
    unshippable_physical = LineItem("p", 1, shippable=False, item_type="PHYSICAL")

    assert not PHYSICAL_ONLY.covers(shippable_custom)
    assert not PHYSICAL_ONLY.covers(unshippable_physical)
    assert FulfillmentPolicy(frozenset({"custom:mug"})).covers(shippable_custom)
    assert FulfillmentPolicy(frozenset({"*"})).covers(shippable_custom)
    assert not FulfillmentPolicy(frozenset({"*"})).covers(unshippable_physical)
