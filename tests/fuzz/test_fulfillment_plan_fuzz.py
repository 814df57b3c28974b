"""Fuzzing the plan (pure): random orders, policies and what Wix already lists for them.

What Wix lists is not ours to trust: fulfillments made by the merchant or another app, lines
fulfilled past what was ordered, line ids the order does not have, quantities of 0 (what the
client reads when Wix leaves one out). Whatever it says, the plan asks for exactly what remains of
the lines this app fulfills, in one fulfillment Wix accepts, and once Wix has it nothing remains.
"""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Sequence

from hypothesis import example, given
from hypothesis import strategies as st

from wix_fulfillment.core.fulfillment_plan import FulfillmentPolicy, remaining_lines
from wix_fulfillment.core.model import ExistingFulfillment, FulfilledLine, LineItem
from wix_fulfillment.core.order_event import MAX_LINE_ITEM_QUANTITY, MAX_LINE_ITEMS

ITEM_TYPES = ("PHYSICAL", "DIGITAL", "GIFT_CARD", "SERVICE", "UNRECOGNISED", "custom:mug")

# A small alphabet, so that the ids Wix lists often are, and sometimes are not, the order's.
line_ids = st.text(alphabet=string.ascii_lowercase[:6] + string.digits[:4], min_size=1, max_size=3)
quantities = st.one_of(st.integers(1, 5), st.integers(1, MAX_LINE_ITEM_QUANTITY))
line_items = st.builds(
    LineItem,
    id=line_ids,
    quantity=quantities,
    shippable=st.booleans(),
    item_type=st.sampled_from(ITEM_TYPES),
)
orders = st.lists(line_items, min_size=1, max_size=MAX_LINE_ITEMS, unique_by=lambda line: line.id)
policies = st.builds(
    FulfillmentPolicy, st.frozensets(st.sampled_from((*ITEM_TYPES, "*")), min_size=1)
)


@st.composite
def listed(draw: st.DrawFn, order: Sequence[LineItem]) -> list[ExistingFulfillment]:
    """Fulfillments Wix might list for the order: its lines or unknown ones, any quantity."""
    ids = st.sampled_from([line.id for line in order]) | line_ids
    lines = st.builds(
        FulfilledLine, ids, st.one_of(st.integers(0, 3), st.integers(0, MAX_LINE_ITEM_QUANTITY))
    )
    return draw(
        st.lists(
            st.builds(ExistingFulfillment, st.text(max_size=4), st.lists(lines, max_size=6)),
            max_size=4,
        ).map(lambda found: [ExistingFulfillment(f.id, tuple(f.lines)) for f in found])
    )


def what_remains(
    order: Sequence[LineItem], existing: Sequence[ExistingFulfillment], policy: FulfillmentPolicy
) -> dict[str, int]:
    """The rule itself, counted independently: ordered minus listed, for the lines we fulfill."""
    listed_quantity: Counter[str] = Counter()
    for fulfillment in existing:
        for line in fulfillment.lines:
            listed_quantity[line.id] += line.quantity
    covered = [
        line
        for line in order
        if line.shippable and ("*" in policy.item_types or line.item_type in policy.item_types)
    ]
    return {
        line.id: line.quantity - listed_quantity[line.id]
        for line in covered
        if line.quantity > listed_quantity[line.id]
    }


def check_plan(
    plan: Sequence[FulfilledLine],
    order: Sequence[LineItem],
    existing: Sequence[ExistingFulfillment],
    policy: FulfillmentPolicy,
) -> None:
    ordered = {line.id: line for line in order}
    planned_ids = [line.id for line in plan]
    assert len(set(planned_ids)) == len(planned_ids), "a line planned twice"
    for line in plan:
        assert line.id in ordered, "a line the order does not have"
        assert policy.covers(ordered[line.id]), "a line the policy does not cover"
        assert 1 <= line.quantity <= min(ordered[line.id].quantity, MAX_LINE_ITEM_QUANTITY)
    assert {line.id: line.quantity for line in plan} == what_remains(order, existing, policy)
    assert planned_ids == [line.id for line in order if line.id in set(planned_ids)]
    assert len(plan) <= MAX_LINE_ITEMS, "more lines than Wix takes in one fulfillment"


@st.composite
def planning_cases(
    draw: st.DrawFn,
) -> tuple[list[LineItem], list[ExistingFulfillment], FulfillmentPolicy]:
    order = draw(orders)
    return order, draw(listed(order)), draw(policies)


_EVERYTHING_PHYSICAL = FulfillmentPolicy(frozenset({"PHYSICAL"}))
_FULL_ORDER = [LineItem(f"l{n}", 2, True, "PHYSICAL") for n in range(MAX_LINE_ITEMS)]


@given(planning_cases())
@example((_FULL_ORDER, [], _EVERYTHING_PHYSICAL))
@example(
    (
        [LineItem("a", 3, True, "PHYSICAL")],
        [ExistingFulfillment("f", (FulfilledLine("a", 9), FulfilledLine("zz", 4)))],
        _EVERYTHING_PHYSICAL,
    )
)
def test_the_plan_is_exactly_what_remains_and_nothing_after_it(
    case: tuple[list[LineItem], list[ExistingFulfillment], FulfillmentPolicy],
) -> None:
    order, existing, policy = case

    plan = remaining_lines(order, existing, policy)

    check_plan(plan, order, existing, policy)
    created = ExistingFulfillment("ours", plan)
    assert remaining_lines(order, [*existing, created], policy) == ()


@given(planning_cases(), st.data())
def test_replanning_after_someone_else_fulfills_more_plans_only_the_rest(
    case: tuple[list[LineItem], list[ExistingFulfillment], FulfillmentPolicy],
    data: st.DataObject,
) -> None:
    """A run that lost a create's answer lists again; meanwhile the merchant may have fulfilled
    part of what we planned. The next plan is the rest, never the first plan again."""
    order, existing, policy = case
    first = remaining_lines(order, existing, policy)
    taken = data.draw(st.tuples(*(st.integers(0, line.quantity) for line in first)), label="taken")
    meanwhile = ExistingFulfillment(
        "merchant", tuple(FulfilledLine(line.id, n) for line, n in zip(first, taken, strict=True))
    )

    second = remaining_lines(order, [*existing, meanwhile], policy)

    check_plan(second, order, [*existing, meanwhile], policy)
    left = {line.id: line.quantity for line in first}
    for line in second:
        assert line.quantity <= left[line.id]
