"""'Call me now' (rules §6): a seller asks to be phoned by an account health specialist."""

from __future__ import annotations

from contextlib import suppress
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.models import Seller, StoreAccount, User
from accounts.services import default_phone_region, parse_phone
from health.eligibility import CALLBACK_LIMIT_PERIOD, MAX_CALLBACKS_PER_DAY, MAX_OPEN_CALLBACKS
from health.models import AHACase, CallbackRequest, CallbackStatus, EmailKind, EngagementKind
from health.services.audit import record_action
from health.services.outbox import queue_email
from health.services.protection import mark_engaged

TOPIC_MAX_LENGTH = CallbackRequest._meta.get_field("topic").max_length
NOTE_MAX_LENGTH = CallbackRequest._meta.get_field("note").max_length


def can_request_callback(seller: Seller) -> bool:
    """Only sellers with at least one Professional store account see "Call me now"."""
    return StoreAccount.objects.filter(seller=seller).professional().exists()


def open_callback(seller: Seller) -> CallbackRequest | None:
    """The seller's queued or claimed request, with its place in the queue, if there is one."""
    return (
        CallbackRequest.objects.open()
        .for_seller(seller)
        .with_queue_position()
        .select_related("case")
        .first()
    )


def queue_position(callback: CallbackRequest) -> int | None:
    """The request's place in the specialists' queue (1 = next), or None unless it is queued."""
    return (
        CallbackRequest.objects.filter(pk=callback.pk)
        .with_queue_position()
        .values_list("queue_position", flat=True)
        .first()
    )


def request_callback(
    *,
    seller: Seller,
    phone: str | None,
    topic: str,
    case: AHACase | None = None,
    by: User,
    zone: ZoneInfo | None = None,
) -> CallbackRequest:
    """Queue a callback; a second press while one is open returns the open one unchanged."""
    callback, _created = press_callback(
        seller=seller, phone=phone, topic=topic, case=case, by=by, zone=zone
    )
    return callback


@transaction.atomic
def press_callback(
    *,
    seller: Seller,
    phone: str | None,
    topic: str,
    case: AHACase | None = None,
    by: User,
    zone: ZoneInfo | None = None,
) -> tuple[CallbackRequest, bool]:
    """Queue a callback, or find the open one; and whether this press created it.

    Only the press that created the request may be told "we have your request": presses at the
    same instant are serialised here, and every other one gets the open request it found.
    `zone` is the time zone of the store the seller pressed in (its refusals give times in it);
    by default the zone of the seller's first store."""
    # Serialise the requests of one seller so the limits below cannot be raced past.
    Seller.objects.select_for_update().filter(pk=seller.pk).first()
    # MAX_OPEN_CALLBACKS (one): the open request is shown instead; a database constraint
    # backs this check up.
    open_requests = list(CallbackRequest.objects.open().for_seller(seller)[:MAX_OPEN_CALLBACKS])
    if len(open_requests) >= MAX_OPEN_CALLBACKS:
        return open_requests[0], False
    _check_allowed(seller, zone)
    number = _number_to_call(seller, phone)
    topic = _clean_text(topic, TOPIC_MAX_LENGTH, field="topic")
    if case is not None and (case.store_account.seller_id != seller.pk or not case.is_open):
        raise ValidationError(_("That AHA case is not open on your account."), code="bad_case")
    try:
        with transaction.atomic():
            callback = CallbackRequest.objects.create(
                seller=seller, requested_by=by, phone=number, topic=topic, case=case
            )
    except IntegrityError:
        # A concurrent press won the one-open-request constraint: show that request.
        return CallbackRequest.objects.open().for_seller(seller).get(), False
    _queue_received_email(callback)
    return callback, True


def _seller_zone(seller: Seller) -> ZoneInfo:
    # The store the seller's pages list first (by name), as the seller-wide pages do.
    first = (
        StoreAccount.objects.filter(seller=seller)
        .select_related("marketplace")
        .order_by("marketplace__name")
        .first()
    )
    return first.marketplace.zone if first is not None else ZoneInfo("UTC")


def _check_allowed(seller: Seller, zone: ZoneInfo | None) -> None:
    if not can_request_callback(seller):
        raise ValidationError(
            _("Call me now is for sellers with a Professional selling plan."), code="not_pro"
        )
    since = timezone.now() - CALLBACK_LIMIT_PERIOD
    recent = list(
        CallbackRequest.objects.for_seller(seller)
        .filter(created_at__gt=since)
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )
    if len(recent) >= MAX_CALLBACKS_PER_DAY:
        next_allowed = recent[-MAX_CALLBACKS_PER_DAY] + CALLBACK_LIMIT_PERIOD
        zone = zone or _seller_zone(seller)
        raise ValidationError(
            _(
                "You have asked for %(count)d callbacks in the last %(hours)d hours, the most "
                "allowed. You can ask again after %(time)s (%(zone)s)."
            )
            % {
                "count": MAX_CALLBACKS_PER_DAY,
                "hours": CALLBACK_LIMIT_PERIOD.total_seconds() // 3600,
                "time": formats.date_format(next_allowed.astimezone(zone), "DATETIME_FORMAT"),
                "zone": zone.key,
            },
            code="limit",
        )


def _number_to_call(seller: Seller, phone: str | None) -> str:
    if phone and phone.strip():
        return parse_phone(phone, region=default_phone_region(seller)).as_e164
    contact = getattr(seller, "emergency_contact", None)
    if contact is None or not contact.is_valid:
        raise ValidationError(
            _("Type the number to call, or add an emergency contact phone number first."),
            code="no_phone",
        )
    return contact.phone.as_e164


def _clean_text(text: str, max_length: int, *, field: str) -> str:
    text = (text or "").strip()
    if len(text) > max_length:
        raise ValidationError(
            _("Keep it under %(max)d characters (you wrote %(length)d).")
            % {"max": max_length, "length": len(text)},
            code=f"{field}_too_long",
        )
    return text


def _queue_received_email(callback: CallbackRequest) -> None:
    queue_email(
        kind=EmailKind.CALLBACK_RECEIVED,
        key=f"callback_received:{callback.pk}",
        seller=callback.seller,
        store_account=callback.case.store_account if callback.case else None,
        context={
            "callback_id": callback.pk,
            "phone": callback.phone,
            "topic": callback.topic,
            "case_id": callback.case_id,
            "requested_at": callback.created_at.isoformat(),
        },
    )


def _locked(callback: CallbackRequest) -> CallbackRequest:
    return (
        CallbackRequest.objects.select_for_update(of=("self",))
        .select_related("case")
        .get(pk=callback.pk)
    )


def _require(callback: CallbackRequest, *statuses: str) -> None:
    if callback.status not in statuses:
        raise ValidationError(
            _("This callback request is already %(status)s.")
            % {"status": callback.get_status_display().lower()},
            code="wrong_status",
        )


@transaction.atomic
def cancel_callback(*, callback: CallbackRequest, by: User) -> CallbackRequest:
    """The seller withdraws a request that is still queued or being called."""
    callback = _locked(callback)
    _require(callback, CallbackStatus.QUEUED, CallbackStatus.CLAIMED)
    callback.status = CallbackStatus.CANCELLED
    callback.finished_at = timezone.now()
    callback.save(update_fields=["status", "finished_at"])
    return callback


@transaction.atomic
def claim_callback(*, callback: CallbackRequest, by: User) -> CallbackRequest:
    """A specialist takes a queued request and calls the seller."""
    callback = _locked(callback)
    _require(callback, CallbackStatus.QUEUED)
    callback.status = CallbackStatus.CLAIMED
    callback.claimed_by = by
    callback.claimed_at = timezone.now()
    callback.save(update_fields=["status", "claimed_by", "claimed_at"])
    _audit(callback, by=by, action="claim_callback")
    return callback


def case_in_scope(callback: CallbackRequest, by: User) -> bool:
    """Whether the request's linked AHA case is in a marketplace this specialist works on."""
    if callback.case is None:
        return False
    stores = StoreAccount.objects.in_scope_of(by)
    return stores.filter(pk=callback.case.store_account_id).exists()


@transaction.atomic
def complete_callback(*, callback: CallbackRequest, by: User, note: str = "") -> CallbackRequest:
    """The specialist talked to the seller; a linked open AHA case counts that as engagement.

    The call completes whoever takes it (the request is the seller's, not a store's), but only
    a specialist of the case's marketplace may engage the case (decision)."""
    callback = _finish(callback, by=by, status=CallbackStatus.COMPLETED, note=note)
    case = callback.case
    if (
        case is not None
        and case.is_open
        and case.engaged_at is None
        and case_in_scope(callback, by)
    ):
        # If the case's deadline passed before the call, the call still happened and the
        # callback completes; the missed case is the deadline watcher's business.
        with suppress(ValidationError):
            mark_engaged(case=case, by=by, how=EngagementKind.CALLBACK, note=callback.note)
    return callback


@transaction.atomic
def mark_no_answer(*, callback: CallbackRequest, by: User, note: str = "") -> CallbackRequest:
    """The specialist called and nobody answered; the seller is told how to ask again."""
    callback = _finish(callback, by=by, status=CallbackStatus.NO_ANSWER, note=note)
    queue_email(
        kind=EmailKind.CALLBACK_NO_ANSWER,
        key=f"callback_no_answer:{callback.pk}",
        seller=callback.seller,
        store_account=callback.case.store_account if callback.case else None,
        context={
            "callback_id": callback.pk,
            "phone": callback.phone,
            "case_id": callback.case_id,
            "called_at": callback.finished_at.isoformat(),
        },
    )
    return callback


def _finish(callback: CallbackRequest, *, by: User, status: str, note: str) -> CallbackRequest:
    callback = _locked(callback)
    # Decision: a specialist may record the outcome straight from the queue without claiming.
    _require(callback, CallbackStatus.QUEUED, CallbackStatus.CLAIMED)
    now = timezone.now()
    if callback.claimed_by_id is None:
        callback.claimed_by, callback.claimed_at = by, now
    callback.status = status
    callback.finished_at = now
    callback.note = _clean_text(note, NOTE_MAX_LENGTH, field="note")
    callback.save(update_fields=["status", "claimed_by", "claimed_at", "finished_at", "note"])
    _audit(callback, by=by, action=f"callback_{status}", reason=callback.note)
    return callback


def _audit(callback: CallbackRequest, *, by: User, action: str, reason: str = "") -> None:
    record_action(
        actor=by,
        action=action,
        store_account=callback.case.store_account if callback.case else None,
        target=f"callback:{callback.pk}",
        reason=reason,
    )
