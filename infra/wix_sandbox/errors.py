"""Wix's error bodies, so clients are tested against the shapes they will meet in production.

Wix answers errors as ``{"message", "details": {"applicationError": {"code", "description",
"data"}}}`` for rule violations and ``{"message", "details": {"validationError":
{"fieldViolations": [...]}}}`` for malformed requests. The exact codes for over-fulfillment, an
unknown order and the like are not documented (see ``unconfirmed``); the sandbox's codes are
named here, in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

# Application error codes the sandbox answers with (Wix documents only the shape, see above).
UNAUTHENTICATED: Final = "UNAUTHENTICATED"
INVALID_CLIENT: Final = "INVALID_CLIENT"
UNSUPPORTED_GRANT_TYPE: Final = "UNSUPPORTED_GRANT_TYPE"
APP_NOT_INSTALLED: Final = "APP_NOT_INSTALLED"
TOO_MANY_REQUESTS: Final = "TOO_MANY_REQUESTS"
ORDER_NOT_FOUND: Final = "ORDER_NOT_FOUND"
FULFILLMENT_NOT_FOUND: Final = "FULFILLMENT_NOT_FOUND"
ORDER_NOT_APPROVED: Final = "ORDER_NOT_APPROVED"
LINE_ITEM_NOT_FOUND: Final = "LINE_ITEM_NOT_FOUND"
FULFILLMENT_QUANTITY_EXCEEDED: Final = "FULFILLMENT_QUANTITY_EXCEEDED"
# The one create error Wix documents (409): the order has a fulfillment with this tracking number.
TRACKING_NUMBER_ALREADY_EXISTS: Final = "TRACKING_NUMBER_ALREADY_EXISTS"
INVALID_ARGUMENT: Final = "INVALID_ARGUMENT"
INTERNAL: Final = "INTERNAL"
NOT_FOUND: Final = "NOT_FOUND"
CONFLICT: Final = "CONFLICT"


@dataclass(frozen=True, slots=True)
class FieldViolation:
    field: str
    description: str


class WixApiError(Exception):
    """An error answer: the HTTP status plus what goes into Wix's error body."""

    def __init__(
        self,
        status: int,
        code: str,
        description: str,
        violations: tuple[FieldViolation, ...] = (),
    ) -> None:
        super().__init__(description)
        self.status = status
        self.code = code
        self.description = description
        self.violations = violations

    def body(self) -> dict[str, Any]:
        if self.violations:
            details: dict[str, Any] = {
                "validationError": {
                    "fieldViolations": [
                        {"field": violation.field, "description": violation.description}
                        for violation in self.violations
                    ]
                }
            }
        else:
            details = {
                "applicationError": {
                    "code": self.code,
                    "description": self.description,
                    "data": {},
                }
            }
        return {"message": self.description, "details": details}

    def item_error(self) -> dict[str, str]:
        """The ``{code, description}`` a bulk result carries for one failed item."""
        return {"code": self.code, "description": self.description}


def application_error(status: int, code: str, description: str) -> WixApiError:
    return WixApiError(status, code, description)


def validation_error(field: str, description: str) -> WixApiError:
    return WixApiError(
        400, INVALID_ARGUMENT, f"{field}: {description}", (FieldViolation(field, description),)
    )
