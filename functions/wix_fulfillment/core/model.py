"""The core's vocabulary: the order as stored, the fulfillment requests and answers, the errors
the algorithms speak, and the ports adapters implement (tests fake them)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Protocol, TypeVar

MAX_ORDERS_PER_CALL: Final = 100
"""Wix's limit for list-by-ids, bulk create and a page of Search Orders."""
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class LineItem:
    """What fulfillment needs of one order line: which, how many, and whether it ships."""

    id: str
    quantity: int
    shippable: bool
    item_type: str
    fulfiller_id: str | None = None
    """The app that fulfills the line; None when the merchant does (then it may be ours)."""
    refunded_quantity: int = 0
    """Units refunded: never shipped."""


@dataclass(frozen=True, slots=True)
class ApprovedOrder:
    """The compact projection of an approved order, as stored for the fulfillment worker."""

    instance_id: str
    order_id: str
    event_id: str
    order_number: str | None
    event_time: str | None
    line_items: tuple[LineItem, ...]
    payment_status: str | None = None
    pickup: bool = False
    """The buyer picks the order up: nothing to ship."""


@dataclass(frozen=True, slots=True)
class OrderCanceled:
    """Wix's order canceled event: a waiting order must never ship, nor a late approval store it."""

    instance_id: str
    order_id: str
    event_id: str


@dataclass(frozen=True, slots=True)
class OrderPaid:
    """Wix's payment status event, when the new status says Wix has the money."""

    instance_id: str
    order_id: str
    event_id: str
    payment_status: str


OrderEvent = ApprovedOrder | OrderCanceled | OrderPaid


@dataclass(frozen=True, slots=True)
class OrderNow:
    """The order as Wix has it when the worker looks: the plan is made from it, never from the
    stored snapshot, which is the approval's and may be stale (canceled, refunded, paid since)."""

    order_id: str
    status: str
    """Wix's order status: ``APPROVED``, ``CANCELED``, ..."""
    payment_status: str | None
    pickup: bool
    line_items: tuple[LineItem, ...]


@dataclass(frozen=True, slots=True)
class IgnoredEvent:
    """A verified event we acknowledge but do not store, with the reason for the log."""

    event_type: str
    reason: str


@dataclass(frozen=True, slots=True)
class FulfilledLine:
    id: str
    quantity: int


@dataclass(frozen=True, slots=True)
class ExistingFulfillment:
    """A fulfillment Wix already has for the order, whoever created it."""

    id: str
    lines: tuple[FulfilledLine, ...]
    ours: bool = False
    """It carries the mark this project puts on the fulfillments it creates without tracking."""


@dataclass(frozen=True, slots=True)
class TrackingInfo:
    tracking_number: str
    shipping_provider: str
    tracking_link: str | None = None


@dataclass(frozen=True, slots=True)
class FulfillmentRequest:
    """One fulfillment for one order: intake caps an order at 300 line items, Wix's limit for
    one fulfillment, so an order never needs two."""

    order_id: str
    lines: tuple[FulfilledLine, ...]
    tracking: TrackingInfo | None

    @property
    def marked(self) -> bool:
        """Without tracking info the fulfillment carries our mark instead (Wix takes tracking
        info or custom info, not both), so once created it tells itself as ours."""
        return self.tracking is None


@dataclass(frozen=True, slots=True)
class CreateResult:
    """Wix's answer for one order of a create call: its fulfillment ids, or why it refused."""

    order_id: str
    fulfillment_ids: tuple[str, ...] = ()
    error_code: str | None = None
    error_message: str | None = None

    @property
    def created(self) -> bool:
        return self.error_code is None


@dataclass(frozen=True, slots=True)
class PendingOrder:
    """An order to fulfill, and what its record noted before an earlier run's create: any
    fulfillment beyond those ids may be that create's, landed although its answer was lost."""

    order: ApprovedOrder
    fulfillment_ids_before_create: frozenset[str] | None = None


class OrderStoreUnavailable(RuntimeError):
    """DynamoDB could not be reached or refused the request; nothing was stored."""


class RecordingFailed(Exception):
    """The outcome could not be written; the order stays PENDING and comes back on the stream."""


class WixUnavailable(Exception):
    """Wix did not answer usefully (after retries); nothing was created by the failed call."""


class AppSecretNotSet(WixUnavailable):
    """The app's secret has not been stored yet: no site's token can be had until an operator
    puts it in, so no Wix call is tried."""


class CreateOutcomeUnknown(Exception):
    """A create was sent but its answer was lost: the fulfillments may or may not exist."""


class TrackingUnavailable(Exception):
    """The shipment provider could not give tracking info now."""


class OrderStore(Protocol):
    def insert_if_new(self, order: ApprovedOrder) -> bool:
        """Store the order unless one with its key exists; True when this call stored it."""
        ...

    def cancel(self, event: OrderCanceled) -> bool:
        """Mark the order CANCELED unless it is settled (a tombstone if it is not stored yet, so
        a late approval stores nothing); True when this call changed it."""
        ...

    def note_payment(self, event: OrderPaid) -> bool:
        """An order waiting for payment becomes PENDING again, one in flight is told; True when
        this call changed a stored order."""
        ...


class WixFulfillments(Protocol):
    def existing_fulfillments(
        self, instance_id: str, order_ids: Sequence[str]
    ) -> Mapping[str, Sequence[ExistingFulfillment]]: ...

    def create_fulfillments(
        self, instance_id: str, requests: Sequence[FulfillmentRequest]
    ) -> Sequence[CreateResult]: ...


class WixOrders(Protocol):
    def current_orders(self, instance_id: str, order_ids: Sequence[str]) -> Mapping[str, OrderNow]:
        """The orders as Wix has them now; an order Wix does not return is left out."""
        ...


class ShipmentProvider(Protocol):
    def tracking_for(
        self, order: ApprovedOrder, lines: Sequence[FulfilledLine]
    ) -> TrackingInfo | None: ...


class OrderOutcomes(Protocol):
    """Where outcomes are recorded; each call changes an order only while it is PENDING."""

    def record_fulfilled(self, order: ApprovedOrder, fulfillment_ids: Sequence[str]) -> None: ...

    def record_skipped(
        self, order: ApprovedOrder, reason: str, fulfillment_ids: Sequence[str]
    ) -> None: ...

    def record_rejected(self, order: ApprovedOrder, code: str, message: str) -> None: ...

    def record_canceled(self, order: ApprovedOrder, reason: str) -> None: ...

    def record_awaiting_payment(self, order: ApprovedOrder, looked_at: float) -> bool:
        """False when Wix's payment event reached the order after ``looked_at`` (the epoch time
        Wix was asked): what Wix said may be stale, so the order is looked at again."""
        ...

    def note_before_create(self, order: ApprovedOrder, fulfillment_ids: Sequence[str]) -> bool:
        """What Wix has for the order, written before a create; False when the order is no
        longer PENDING (another run settled it): then nothing may be created."""
        ...

    def record_failed_attempt(
        self, order: ApprovedOrder, reason: str, *, forget_ids_before_create: bool
    ) -> None: ...


class Concurrently(Protocol):
    """Runs independent pieces of work (the table writes of many orders), in whatever order or
    at the same time, and returns their answers in the order given."""

    def __call__(self, work: Sequence[Callable[[], _T]]) -> list[_T]: ...


def in_turn(work: Sequence[Callable[[], _T]]) -> list[_T]:
    return [piece() for piece in work]
