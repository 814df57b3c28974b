"""Deliver Wix's webhooks the way Wix does, and retry them on its schedule: the order events
(approved, canceled, payment status updated) and the app's lifecycle events (AppInstalled,
AppRemoved).

Wire format (``shared/wix/api-facts.md``): ``POST``, ``Content-Type: text/plain``, the body a
compact RS256 JWT whose ``data`` claim nests the event as JSON strings, pretty-printed as Wix
writes them unless told otherwise, and whose lifetime is a genuine token's (``exp - iat`` =
3,600,000 s; or no ``exp`` at all). Only an answer of 200 within the deadline counts as delivered;
anything else is retried on Wix's schedule (``RESEND_SCHEDULE_SECONDS``), divided by the
compression factor. An order's webhooks can be lost for good (never sent, never resent), as when
Wix gives up or a subscription is broken. What Wix leaves unsaid here is listed in
``unconfirmed``.

All sending happens on background threads: the control API call that creates an order returns at
once, with the deliveries already registered, so a test can wait for them to settle.
"""

from __future__ import annotations

import contextlib
import heapq
import http.client
import itertools
import random
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa

from infra.samples.webhook_signing import (
    ANONYMOUS_IDENTITY,
    order_approved_envelope,
    sign_wix_webhook,
    wix_webhook_claims,
)
from infra.wix_sandbox import errors
from infra.wix_sandbox.clock import iso_timestamp
from infra.wix_sandbox.errors import application_error, validation_error
from infra.wix_sandbox.parsing import flag, known_settings
from infra.wix_sandbox.stats import Stats

RESEND_SCHEDULE_SECONDS: Final = (
    60,
    600,
    3_600,
    7_200,
    7_200,
    7_200,
    14_400,
    14_400,
    14_400,
    28_800,
    28_800,
    43_200,
)
MAX_ATTEMPTS: Final = 1 + len(RESEND_SCHEDULE_SECONDS)
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_COPIES: Final = 50
_SENDER_THREADS: Final = 64
_PLAN_SETTINGS: Final = frozenset({"copies", "concurrentCopies", "extraEvents", "shuffle"})


class DeliveryState(StrEnum):
    PENDING = "pending"  # an attempt is due or under way
    DELIVERED = "delivered"  # answered 200
    FAILED = "failed"  # every attempt of the schedule failed
    CANCELED = "canceled"  # the sandbox stopped first
    LOST = "lost"  # never sent (or no more resends): the order's webhooks are lost for good


class EventType(StrEnum):
    """The ``eventType`` of each webhook, as Wix's SDK packages name them."""

    ORDER_APPROVED = "wix.ecom.v1.order_approved"
    ORDER_CANCELED = "wix.ecom.v1.order_canceled"
    ORDER_PAYMENT_STATUS_UPDATED = "wix.ecom.v1.order_payment_status_updated"
    APP_INSTALLED = "AppInstalled"
    APP_REMOVED = "AppRemoved"


# The envelope's ``slug`` of each order event (Wix's webhook reference pages).
ORDER_EVENT_SLUGS: Final = {
    EventType.ORDER_APPROVED: "approved",
    EventType.ORDER_CANCELED: "canceled",
    EventType.ORDER_PAYMENT_STATUS_UPDATED: "payment_status_updated",
}
# Who a site owner's install or removal is done by (Wix's identity types; the id is made up).
_SITE_OWNER: Final = {"identityType": "WIX_USER", "wixUserId": str(uuid.UUID(int=1))}


@dataclass(frozen=True, slots=True)
class DeliveryPlan:
    """How to deliver each event: ``copies`` one after another (each once the previous one was
    answered), then ``concurrent_copies`` all at the same instant, then ``extra_events`` further
    events (new event ids) for the same order. ``shuffle`` sends all of a request's deliveries,
    across its orders, in a random order fixed by the seed."""

    copies: int = 1
    concurrent_copies: int = 0
    extra_events: int = 0
    shuffle: bool = False

    @classmethod
    def from_json(cls, value: object) -> DeliveryPlan:
        if value is None:
            return cls()
        if not isinstance(value, Mapping):
            raise validation_error("delivery", "must be an object")
        known_settings(value, _PLAN_SETTINGS, "delivery")
        counts = {}
        for name, default in (("copies", 1), ("concurrentCopies", 0), ("extraEvents", 0)):
            count = value.get(name, default)
            if type(count) is not int or not 0 <= count <= MAX_COPIES:
                raise validation_error(f"delivery.{name}", f"a whole number from 0 to {MAX_COPIES}")
            counts[name] = count
        if counts["copies"] + counts["concurrentCopies"] < 1:
            raise validation_error("delivery", "copies + concurrentCopies must be at least 1")
        shuffle = flag(value.get("shuffle", False), "delivery.shuffle")
        return cls(counts["copies"], counts["concurrentCopies"], counts["extraEvents"], shuffle)


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    event_id: str
    instance_id: str
    event_type: EventType
    order_id: str | None  # None for the app's lifecycle events
    token: str  # the signed JWT, the same bytes for every delivery of this event
    order: Mapping[str, Any] | None = None  # an approval's order, to make extra events from


@dataclass(slots=True)
class Attempt:
    number: int
    started_at: float  # epoch seconds
    elapsed_ms: float
    status: int | None
    error: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "startedAt": self.started_at,
            "at": iso_timestamp(self.started_at),
            "elapsedMs": round(self.elapsed_ms, 3),
            "status": self.status,
            "error": self.error,
        }


@dataclass(slots=True)
class Delivery:
    delivery_id: str
    event: WebhookEvent
    attempts: list[Attempt] = field(default_factory=list)
    state: DeliveryState = DeliveryState.PENDING
    next_attempt_at: float | None = None  # epoch seconds of a scheduled retry

    def to_json(self) -> dict[str, Any]:
        return {
            "deliveryId": self.delivery_id,
            "eventId": self.event.event_id,
            "eventType": self.event.event_type.value,
            "orderId": self.event.order_id,
            "instanceId": self.event.instance_id,
            "state": self.state.value,
            "attempts": [attempt.to_json() for attempt in self.attempts],
            "nextAttemptAt": self.next_attempt_at,
        }


def loopback_webhook_url(url: object) -> str:
    """The sandbox sends webhooks to this machine only: an ``http`` URL on a loopback host."""
    if not isinstance(url, str):
        raise validation_error("webhookUrl", "must be a URL string")
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK_HOSTS:
        raise validation_error(
            "webhookUrl", "must be an http:// URL on 127.0.0.1, localhost or [::1]"
        )
    return url


class WebhookDispatcher:
    """Signs events, sends them on background threads, retries on schedule, records attempts."""

    def __init__(
        self,
        *,
        private_key: rsa.RSAPrivateKey,
        stats: Stats,
        seed: int,
        webhook_url: str | None,
        compression: float,
        timeout_seconds: float,
        token_lifetime_seconds: float | None,
        pretty_json: bool,
    ) -> None:
        self._private_key = private_key
        self.token_lifetime_seconds = token_lifetime_seconds  # None: tokens without ``exp``
        self.pretty_json = pretty_json
        self._stats = stats
        self._seed = seed
        self.webhook_url = None if webhook_url is None else loopback_webhook_url(webhook_url)
        self.compression = compression
        self.timeout_seconds = timeout_seconds
        self._condition = threading.Condition()
        self._deliveries: list[Delivery] = []
        self._latest_event: dict[tuple[str, EventType], WebhookEvent] = {}
        self._lost_orders: set[str] = set()
        self._retries: list[tuple[float, int, Delivery]] = []
        self._sequence = itertools.count()
        self._shuffler = random.Random(f"{seed}:webhook-order")  # noqa: S311 (not cryptography)
        self._stopping = False
        self._senders = ThreadPoolExecutor(_SENDER_THREADS, thread_name_prefix="wix-webhook")
        self._scheduler = threading.Thread(
            target=self._run_scheduler, name="wix-webhook-retries", daemon=True
        )

    def start(self) -> None:
        self._scheduler.start()

    def stop(self) -> None:
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
        if self._scheduler.is_alive():
            self._scheduler.join()
        self._senders.shutdown(wait=True, cancel_futures=True)
        with self._condition:
            for delivery in self._deliveries:
                if delivery.state is DeliveryState.PENDING:
                    delivery.state = DeliveryState.CANCELED
                    delivery.next_attempt_at = None
            self._condition.notify_all()

    # --- what the control API asks for ----------------------------------------------------

    def new_event(
        self, instance_id: str, order: Mapping[str, Any], event_id: str | None = None
    ) -> WebhookEvent:
        """The order's Order Approved event."""
        return self.order_event(EventType.ORDER_APPROVED, instance_id, order, event_id=event_id)

    def order_event(
        self,
        event_type: EventType,
        instance_id: str,
        order: Mapping[str, Any],
        extra: Mapping[str, Any] | None = None,
        event_id: str | None = None,
    ) -> WebhookEvent:
        """An order event: ``actionEvent.body`` is ``{"order": ..., **extra}`` (Wix's typings:
        ``previousPaymentStatus`` beside the order of a payment status update)."""
        event_id = event_id or str(uuid.uuid4())
        envelope = order_approved_envelope(order, event_id, iso_timestamp())
        envelope["slug"] = ORDER_EVENT_SLUGS[event_type]
        envelope["actionEvent"] = {"body": {"order": order, **(extra or {})}}
        order_id = str(order["id"])
        token = self._sign(envelope, instance_id, event_type, ANONYMOUS_IDENTITY)
        approval = order if event_type is EventType.ORDER_APPROVED else None
        return WebhookEvent(event_id, instance_id, event_type, order_id, token, approval)

    def app_event(
        self, event_type: EventType, instance_id: str, data: Mapping[str, Any]
    ) -> WebhookEvent:
        """AppInstalled or AppRemoved: the inner ``data`` is the event's own object (``appId``,
        and ``originInstanceId`` for a duplicated site), no entity envelope, as the SDK reads
        it."""
        token = self._sign(data, instance_id, event_type, _SITE_OWNER)
        return WebhookEvent(str(uuid.uuid4()), instance_id, event_type, None, token)

    def _sign(
        self,
        data: Mapping[str, Any],
        instance_id: str,
        event_type: EventType,
        identity: Mapping[str, Any],
    ) -> str:
        issued_at = int(time.time())
        lifetime = self.token_lifetime_seconds
        claims = wix_webhook_claims(
            data,
            instance_id=instance_id,
            issued_at=issued_at,
            expires_at=issued_at + int(lifetime or 0),
            event_type=event_type.value,
            identity=identity,
            pretty=self.pretty_json,
        )
        if lifetime is None:
            del claims["exp"]
        return sign_wix_webhook(claims, self._private_key)

    def lose(self, order_ids: Sequence[str]) -> int:
        """Lose the orders' webhooks for good: pending ones are not resent, later ones never
        sent. Returns how many deliveries were pending."""
        with self._condition:
            self._lost_orders.update(order_ids)
            pending = [
                delivery
                for delivery in self._deliveries
                if delivery.state is DeliveryState.PENDING and delivery.event.order_id in order_ids
            ]
            for delivery in pending:
                delivery.state = DeliveryState.LOST
                delivery.next_attempt_at = None
            self._condition.notify_all()
        self._stats.add("webhookLost", len(pending))
        return len(pending)

    def deliver(self, events: Sequence[WebhookEvent], plan: DeliveryPlan) -> list[Delivery]:
        """Register the deliveries of these events and send them in the background."""
        if self.webhook_url is None:
            raise application_error(
                409, errors.CONFLICT, "no webhook URL is configured (PATCH /_sandbox/config)"
            )
        steps: list[list[Delivery]] = []
        for event in events:
            steps.extend([self._delivery(event)] for _ in range(plan.copies))
            if plan.concurrent_copies:
                steps.append([self._delivery(event) for _ in range(plan.concurrent_copies)])
            for _ in range(plan.extra_events):
                if event.order is not None:
                    extra = self.new_event(event.instance_id, event.order)
                    steps.append([self._delivery(extra)])
        with self._condition:
            if plan.shuffle:
                self._shuffler.shuffle(steps)
            self._remember(events)
            deliveries = [delivery for step in steps for delivery in step]
            lost = [d for d in deliveries if d.event.order_id in self._lost_orders]
            for delivery in lost:
                delivery.state = DeliveryState.LOST
            self._deliveries.extend(deliveries)
        self._stats.add("webhookDeliveries", len(deliveries) - len(lost))
        self._stats.add("webhookLost", len(lost))
        self._senders.submit(self._send_steps, steps)
        return deliveries

    def hold(self, events: Sequence[WebhookEvent]) -> None:
        """Keep events unsent, to deliver later (``latest_event``): an approval that Wix sends
        after the order's payment or cancellation, say."""
        with self._condition:
            self._remember(events)

    def _remember(self, events: Sequence[WebhookEvent]) -> None:
        for event in events:
            if event.order_id is not None:
                self._latest_event[(event.order_id, event.event_type)] = event

    def latest_event(
        self, order_id: str, event_type: EventType = EventType.ORDER_APPROVED
    ) -> WebhookEvent:
        with self._condition:
            event = self._latest_event.get((order_id, event_type))
        if event is None:
            raise application_error(
                404, errors.NOT_FOUND, f"no {event_type.value} webhook was made for this order"
            )
        return event

    def deliveries(
        self,
        order_id: str | None = None,
        event_id: str | None = None,
        instance_id: str | None = None,
    ) -> list[dict[str, Any]]:
        with self._condition:
            return [
                delivery.to_json() for delivery in self._matching(order_id, event_id, instance_id)
            ]

    def wait_settled(
        self,
        order_id: str | None = None,
        event_id: str | None = None,
        timeout: float = 10.0,
        instance_id: str | None = None,
    ) -> bool:
        """True once no matching delivery is pending (each was delivered, failed, canceled or
        lost)."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                pending = any(
                    delivery.state is DeliveryState.PENDING
                    for delivery in self._matching(order_id, event_id, instance_id)
                )
                remaining = deadline - time.monotonic()
                if not pending or remaining <= 0 or self._stopping:
                    return not pending
                self._condition.wait(remaining)

    def pending_count(self) -> int:
        with self._condition:
            return sum(delivery.state is DeliveryState.PENDING for delivery in self._deliveries)

    def forget(self) -> None:
        """Drop the record of settled deliveries; pending ones go on."""
        with self._condition:
            self._deliveries = [
                delivery for delivery in self._deliveries if delivery.state is DeliveryState.PENDING
            ]
            self._latest_event.clear()
            self._lost_orders.clear()

    # --- sending ----------------------------------------------------------------------------

    def _delivery(self, event: WebhookEvent) -> Delivery:
        return Delivery(str(uuid.uuid4()), event)

    def _matching(
        self, order_id: str | None, event_id: str | None, instance_id: str | None = None
    ) -> list[Delivery]:
        return [
            delivery
            for delivery in self._deliveries
            if (order_id is None or delivery.event.order_id == order_id)
            and (event_id is None or delivery.event.event_id == event_id)
            and (instance_id is None or delivery.event.instance_id == instance_id)
        ]

    def _send_steps(self, steps: list[list[Delivery]]) -> None:
        """Each step's first attempt, in order; a step of several is sent all at once."""
        for step in steps:
            if self._stopping:
                return
            if len(step) == 1:
                self._attempt(step[0])
                continue
            start_together = threading.Barrier(len(step))
            senders = [
                threading.Thread(target=self._attempt, args=(delivery, start_together))
                for delivery in step
            ]
            for sender in senders:
                sender.start()
            for sender in senders:
                sender.join()

    def _attempt(self, delivery: Delivery, start_together: threading.Barrier | None = None) -> None:
        url = self.webhook_url
        if start_together is not None:
            with contextlib.suppress(threading.BrokenBarrierError):
                start_together.wait(timeout=5.0)
        if delivery.state is DeliveryState.LOST:
            return
        started_at, started = time.time(), time.monotonic()
        status, error = (
            self._post(url, delivery) if url is not None else (None, "no webhook URL configured")
        )
        attempt = Attempt(
            number=len(delivery.attempts) + 1,
            started_at=started_at,
            elapsed_ms=(time.monotonic() - started) * 1000.0,
            status=status,
            error=error,
        )
        self._record(delivery, attempt)

    def _post(self, url: str, delivery: Delivery) -> tuple[int | None, str | None]:
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1", parts.port or 80, timeout=self.timeout_seconds
        )
        try:
            connection.request(
                "POST",
                path,
                body=delivery.event.token.encode("ascii"),
                headers={"Content-Type": "text/plain"},
            )
            response = connection.getresponse()
            response.read()
        except TimeoutError:
            return None, f"no answer within {self.timeout_seconds} s"
        except (OSError, http.client.HTTPException) as failure:
            return None, f"{type(failure).__name__}: {failure}"
        finally:
            connection.close()
        return response.status, None

    def _record(self, delivery: Delivery, attempt: Attempt) -> None:
        self._stats.add("webhookAttempts")
        with self._condition:
            delivery.attempts.append(attempt)
            if delivery.state is DeliveryState.LOST and attempt.status != 200:
                pass  # lost while this attempt was under way: no resend
            elif attempt.status == 200:
                delivery.state = DeliveryState.DELIVERED
                delivery.next_attempt_at = None
                self._stats.add("webhookDelivered")
            elif self._stopping:
                delivery.state = DeliveryState.CANCELED
            elif attempt.number >= MAX_ATTEMPTS:
                delivery.state = DeliveryState.FAILED
                delivery.next_attempt_at = None
                self._stats.add("webhookFailed")
            else:
                delay = RESEND_SCHEDULE_SECONDS[attempt.number - 1] / self.compression
                delivery.next_attempt_at = time.time() + delay
                heapq.heappush(
                    self._retries, (time.monotonic() + delay, next(self._sequence), delivery)
                )
            self._condition.notify_all()

    def _run_scheduler(self) -> None:
        with self._condition:
            while not self._stopping:
                if not self._retries:
                    self._condition.wait()
                    continue
                due = self._retries[0][0] - time.monotonic()
                if due > 0:
                    self._condition.wait(due)
                    continue
                _, _, delivery = heapq.heappop(self._retries)
                delivery.next_attempt_at = None
                self._senders.submit(self._attempt, delivery)
