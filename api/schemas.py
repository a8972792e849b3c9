"""The API's request and response bodies (they make the OpenAPI schema)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Schema
from pydantic import field_validator


class In(Schema):
    """A request body: text with a NUL byte or a lone surrogate is refused (400), never stored."""

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: object) -> object:
        if isinstance(value, str) and not _storable(value):
            raise ValueError("Text must not hold NUL bytes or broken Unicode.")
        return value


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


ExternalId = Field(..., min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")


class SellerIn(In):
    name: str = Field(..., min_length=1, max_length=200)
    email: str = Field(..., min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    language: Literal["en", "pl"] = "en"


class SellerOut(Schema):
    external_id: str
    name: str
    email: str
    language: str
    created: bool
    changed: bool


class UserIn(In):
    username: str = Field(..., min_length=1, max_length=150, pattern=r"^[\w.@+-]+$")
    email: str = Field(..., min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    language: Literal["en", "pl"] = "en"


class UserOut(Schema):
    external_id: str
    seller: str
    username: str
    created: bool
    changed: bool
    invited: bool


class StoreAccountIn(In):
    seller: str = ExternalId
    marketplace: str = Field(..., min_length=2, max_length=2, description="e.g. US, PL")
    plan: Literal["PRO", "IND"] = Field("PRO", description="PRO (Professional) or IND")
    opened_on: dt.date


class StoreAccountOut(Schema):
    external_id: str
    seller: str
    marketplace: str
    plan: str
    opened_on: dt.date
    status: str
    created: bool
    changed: bool


class ContactIn(In):
    phone: str = Field(..., min_length=1, max_length=64)


class ContactOut(Schema):
    seller: str
    phone: str | None
    changed: bool


class OrdersRowIn(In):
    store_account: str = Field(..., min_length=1, max_length=100)
    day: dt.date = Field(..., description="The marketplace's local day")
    orders: int


class OrdersBatchIn(In):
    rows: list[OrdersRowIn] = Field(..., max_length=10_000)


class OrdersBatchOut(Schema):
    rows: int
    store_accounts: int
    corrected_closed_days: int


class ViolationIn(In):
    store_account: str | None = Field(
        None, max_length=100, description="The store account, for a store-scope one"
    )
    seller: str | None = Field(
        None, max_length=100, description="The seller, for an account-wide one"
    )
    category: str
    severity: str
    deactivation_level: bool = False
    detected_at: dt.datetime = Field(..., description="With a UTC offset")
    description: str = Field("", max_length=2000)
    reference: str = Field("", max_length=100, description="Listing, ASIN or order id")
    policy_link: str = Field("", max_length=500, pattern=r"^(https?://\S+)?$")


class ViolationOut(Schema):
    external_id: str
    store_account: str | None
    scope: str
    category: str
    severity: str
    deactivation_level: bool
    repeat: bool
    detected_at: dt.datetime
    resolved_at: dt.datetime | None
    created: bool


class ResolutionIn(In):
    resolved_at: dt.datetime = Field(..., description="With a UTC offset")


class CaseOut(Schema):
    id: int
    trigger: str
    status: str
    opened_at: dt.datetime
    deadline_at: dt.datetime | None
    violation: str | None


class AhaOut(Schema):
    enrolled: bool
    enrolled_since: dt.date | None
    barred: bool
    status: str
    eligible: bool
    waiting_for_contact: bool
    failing: list[str]
    days_on_record: int
    days_required: int
    days_below: int
    days_below_allowed: int
    first_qualifying_day: dt.date | None


class HealthOut(Schema):
    store_account: str | None
    marketplace: str
    status: str
    last_closed_day: dt.date | None
    ahr: int | None
    band: str | None
    aha: AhaOut
    open_cases: list[CaseOut]


class EventOut(Schema):
    kind: str = Field(
        ...,
        description="enrollment, case_opened, case_closed, enforcement_opened, "
        "enforcement_decided or status",
    )
    id: int
    at: dt.datetime
    store_account: str | None
    marketplace: str
    change: str = Field(..., description="For `status`: the new status")
    reason: str = Field(
        ..., description="For `status`: its cause (ahr, deactivation, reinstatement)"
    )
    day: dt.date
    previous_status: str | None = Field(None, description="For `status`: the status before")


class EventsOut(Schema):
    events: list[EventOut]
    next: str = Field(..., description="Pass as `after` to get the events that follow")
