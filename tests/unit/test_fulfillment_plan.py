"""The plan: remaining quantity per fulfillable line item (pure)."""

from __future__ import annotations

from wix_fulfillment.core.fulfillment_plan import (
    FulfillmentPolicy,
    nothing_to_fulfill,
    remaining_lines,
)
from wix_fulfillment.core.model import ApprovedOrder, ExistingFulfillment, FulfilledLine, LineItem

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


def test_another_fulfillers_lines_are_not_ours_unless_they_name_our_fulfiller_id() -> None:
    merchants = physical("a", 1)
    print_on_demand = LineItem("b", 1, shippable=True, item_type="PHYSICAL", fulfiller_id="pod")

    assert remaining_lines([merchants, print_on_demand], [], PHYSICAL_ONLY) == (
        FulfilledLine("a", 1),
    )
    ours = FulfillmentPolicy(frozenset({"PHYSICAL"}), fulfiller_id="pod")
    assert remaining_lines([print_on_demand], [], ours) == (FulfilledLine("b", 1),)


def test_refunded_units_are_never_planned() -> None:
    partly = LineItem("a", 3, shippable=True, item_type="PHYSICAL", refunded_quantity=1)
    wholly = LineItem("b", 2, shippable=True, item_type="PHYSICAL", refunded_quantity=2)
    existing = [ExistingFulfillment("f1", (FulfilledLine("a", 1),))]

    assert remaining_lines([partly, wholly], [], PHYSICAL_ONLY) == (FulfilledLine("a", 2),)
    assert remaining_lines([partly], existing, PHYSICAL_ONLY) == (FulfilledLine("a", 1),)


def order_of(*lines: LineItem, pickup: bool = False) -> ApprovedOrder:
    return ApprovedOrder("site", "o1", "e1", None, None, lines, pickup=pickup)


def test_a_pickup_order_has_nothing_to_ship_unless_the_merchant_says_so() -> None:
    pickup = order_of(physical("a", 1), pickup=True)
    with_pickups = FulfillmentPolicy(frozenset({"PHYSICAL"}), fulfill_pickup_orders=True)

    assert PHYSICAL_ONLY.lines_of(pickup) == ()
    assert nothing_to_fulfill(pickup, PHYSICAL_ONLY) == "a pickup order: nothing to ship"
    assert with_pickups.lines_of(pickup) == (physical("a", 1),)


def test_the_reason_nothing_is_fulfilled_says_which_case_it_is() -> None:
    refunded = LineItem("a", 2, shippable=True, item_type="PHYSICAL", refunded_quantity=2)
    theirs = LineItem("b", 1, shippable=True, item_type="PHYSICAL", fulfiller_id="pod")
    digital = LineItem("c", 1, shippable=False, item_type="DIGITAL")

    assert nothing_to_fulfill(order_of(refunded), PHYSICAL_ONLY) == "refunded"
    assert nothing_to_fulfill(order_of(theirs, digital), PHYSICAL_ONLY) == (
        "no line item to fulfill: the others are another fulfiller's"
    )
    assert nothing_to_fulfill(order_of(digital), PHYSICAL_ONLY) == "no line item to fulfill"
    assert nothing_to_fulfill(order_of(physical("d", 1)), PHYSICAL_ONLY) == (
        "already fulfilled at Wix"
    )
