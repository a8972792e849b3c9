"""Account health data: orders, violations, daily AHR records, eligibility and enrollment state,
AHA cases, standard enforcement, callback requests, the email outbox, nightly runs and the audit
trail. Business rules live in health/rating.py and health/eligibility.py; writes live in
health/services/."""

from __future__ import annotations

from collections.abc import Collection

from django.conf import settings
from django.db import models
from django.db.models import Case, Count, Exists, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Marketplace, Seller, StoreAccount, acted_by

USER = settings.AUTH_USER_MODEL


# ---------------------------------------------------------------------------------------------
# Inputs: orders and violations
# ---------------------------------------------------------------------------------------------


class DailyOrders(models.Model):
    """Orders a store account fulfilled on one local day (sparse: days with none have no row)."""

    pk = models.CompositePrimaryKey("store_account_id", "day")
    # No index of its own: the primary key starts with it (one index less to write each night).
    store_account = models.ForeignKey(
        StoreAccount, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    day = models.DateField()
    orders = models.PositiveIntegerField()

    class Meta:
        verbose_name_plural = "daily orders"
        # The day close reads two days (entering and leaving the window) of a range of store
        # accounts: by the primary key alone it walked every day of the month of that range.
        indexes = [models.Index(fields=["day", "store_account"], name="orders_by_day")]

    def __str__(self) -> str:
        return f"{self.orders} orders on {self.day}"


class ViolationCategory(models.TextChoices):
    SUSPECTED_IP = "suspected_ip", _("Suspected intellectual property violations")
    IP_COMPLAINTS = "ip_complaints", _("Received intellectual property complaints")
    AUTHENTICITY = "authenticity", _("Product authenticity customer complaints")
    CONDITION = "condition", _("Product condition customer complaints")
    SAFETY_COMPLAINTS = "safety_complaints", _("Product safety customer complaints")
    FOOD_SAFETY = "food_safety", _("Food and product safety issues")
    LISTING = "listing", _("Listing policy violations")
    RESTRICTED = "restricted", _("Restricted product policy violations")
    REVIEWS = "reviews", _("Customer product reviews policy violations")
    OTHER = "other", _("Other policy violations")
    WARNINGS = "warnings", _("Policy violation warnings")
    DOCUMENTS = "documents", _("Document requests")


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class ViolationScope(models.TextChoices):
    STORE = "store", _("This store account")
    ACCOUNT_WIDE = "account", _("Account-wide (every store account of the seller)")


class ViolationQuerySet(models.QuerySet["Violation"]):
    def open(self) -> ViolationQuerySet:
        return self.filter(resolved_at__isnull=True)

    def for_seller(self, seller: Seller | int) -> ViolationQuerySet:
        return self.filter(store_account__seller=seller)

    def affecting(self, store_account: StoreAccount) -> ViolationQuerySet:
        """Violations of this store account and the seller's account-wide ones."""
        return self.filter(
            Q(store_account=store_account)
            | Q(scope=ViolationScope.ACCOUNT_WIDE, store_account__seller_id=store_account.seller_id)
        )


class Violation(models.Model):
    """A policy compliance finding. Its points count for 180 days or until resolved."""

    store_account = models.ForeignKey(
        StoreAccount,
        on_delete=models.CASCADE,
        related_name="violations",
        verbose_name=_("store account"),
    )
    category = models.CharField(
        max_length=20, choices=ViolationCategory.choices, verbose_name=_("category")
    )
    severity = models.CharField(max_length=8, choices=Severity.choices, verbose_name=_("severity"))
    scope = models.CharField(
        max_length=7,
        choices=ViolationScope.choices,
        default=ViolationScope.STORE,
        verbose_name=_("scope"),
    )
    deactivation_level = models.BooleanField(default=False, verbose_name=_("deactivation level"))
    repeat = models.BooleanField(
        default=False,
        help_text=_("Another violation of its category in the 180 days before it."),
        verbose_name=_("repeat"),
    )
    description = models.TextField(blank=True, max_length=2000, verbose_name=_("description"))
    detected_at = models.DateTimeField(default=timezone.now, verbose_name=_("detected at"))
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("resolved at"))
    recorded_by = acted_by(_("recorded by"))
    resolved_by = acted_by(_("resolved by"))
    # The upstream system's own id (the API's upsert key), and what it points the seller at.
    external_id = models.CharField(
        max_length=100, null=True, blank=True, unique=True, verbose_name=_("external ID")
    )
    # Defaults in the database too: bulk loads that name only the older columns still work.
    reference = models.CharField(
        max_length=100,
        blank=True,
        default="",
        db_default="",
        help_text=_("The listing, ASIN or order id concerned."),
        verbose_name=_("reference"),
    )
    policy_link = models.URLField(
        max_length=500,
        blank=True,
        default="",
        db_default="",
        help_text=_("The policy it breaks."),
        verbose_name=_("policy link"),
    )

    objects = ViolationQuerySet.as_manager()

    class Meta:
        verbose_name = _("violation")
        verbose_name_plural = _("violations")
        ordering = ["-detected_at"]
        indexes = [
            models.Index(fields=["store_account", "detected_at"], name="violation_recent"),
            # The few account-wide ones, which each night's close looks up by seller.
            models.Index(
                fields=["detected_at"],
                condition=models.Q(scope=ViolationScope.ACCOUNT_WIDE),
                name="violation_account_wide",
            ),
        ]

    def __str__(self) -> str:
        return _("%(category)s (%(severity)s) on %(store)s") % {
            "category": self.get_category_display(),
            "severity": self.get_severity_display(),
            "store": self.store_account,
        }

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


# ---------------------------------------------------------------------------------------------
# The nightly record: daily AHR, the rolling per-account state, enrollment history
# ---------------------------------------------------------------------------------------------


class DailyRating(models.Model):
    """The AHR of one store account for one closed day. Written once, never rewritten."""

    pk = models.CompositePrimaryKey("store_account_id", "day")
    # No index of its own: the primary key starts with it (one index less to write each night).
    # No constraint in the database either (a decision): the only writer, the day close, inserts
    # the ratings of HealthState rows, which have theirs, and store accounts are not deleted
    # (a deletion still cascades here, through Django). Checking a million new rows a night
    # against the store accounts cost more than writing them.
    store_account = models.ForeignKey(
        StoreAccount,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    day = models.DateField()
    ahr = models.PositiveSmallIntegerField()

    def __str__(self) -> str:
        return f"AHR {self.ahr} on {self.day}"


class EligibilityStatus(models.TextChoices):
    NEW = "new", _("Not evaluated yet")
    ENROLLED = "enrolled", _("Enrolled in AHA")
    WAITING_FOR_CONTACT = "waiting", _("Eligible, waiting for an emergency contact")
    NOT_ELIGIBLE = "not_eligible", _("Not eligible")


class HealthStateQuerySet(models.QuerySet["HealthState"]):
    def enrolled(self) -> HealthStateQuerySet:
        return self.filter(enrolled=True)

    def waiting_for_contact(self) -> HealthStateQuerySet:
        return self.filter(status=EligibilityStatus.WAITING_FOR_CONTACT)


class HealthState(models.Model):
    """What the nightly job remembers per store account so that closing a day costs the same
    whatever the length of the stored history (see health/eligibility.py RatingWindow)."""

    store_account = models.OneToOneField(
        StoreAccount,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="health",
        verbose_name=_("store account"),
    )
    last_closed_day = models.DateField(null=True, blank=True, verbose_name=_("last closed day"))
    ahr = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("AHR"))
    orders_in_window = models.PositiveIntegerField(default=0, verbose_name=_("orders in window"))
    days_on_record = models.PositiveSmallIntegerField(default=0, verbose_name=_("days on record"))
    below_mask = models.BinaryField(
        default=b"", help_text=_("Days below 250, one bit a day."), verbose_name=_("below mask")
    )
    status = models.CharField(
        max_length=12,
        choices=EligibilityStatus.choices,
        default=EligibilityStatus.NEW,
        verbose_name=_("status"),
    )
    failing = models.CharField(
        max_length=20,
        blank=True,
        help_text=_("Failing criteria, E1-E6."),
        verbose_name=_("failing"),
    )
    first_qualifying_day = models.DateField(
        null=True, blank=True, verbose_name=_("first qualifying day")
    )
    enrolled = models.BooleanField(default=False, verbose_name=_("enrolled"))
    enrolled_since = models.DateField(null=True, blank=True, verbose_name=_("enrolled since"))
    barred = models.BooleanField(default=False, verbose_name=_("barred"))
    contact_reminded_on = models.DateField(
        null=True, blank=True, verbose_name=_("contact reminded on")
    )

    objects = HealthStateQuerySet.as_manager()

    class Meta:
        verbose_name = _("health state")
        verbose_name_plural = _("health states")
        indexes = [models.Index(fields=["status"], name="health_state_status")]

    def __str__(self) -> str:
        return f"Health of {self.store_account_id}"


class EnrollmentEventKind(models.TextChoices):
    ENROLLED = "enrolled", _("Enrolled")
    REMOVED = "removed", _("Removed")
    BARRED = "barred", _("Barred")
    BAR_LIFTED = "bar_lifted", _("Bar lifted")


class RemovalReasonChoice(models.TextChoices):
    R1 = "R1", _("AHR below 250 for more than 10 consecutive days")
    R2 = "R2", _("Selling plan no longer Professional")
    R3 = "R3", _("No valid emergency contact")
    R4 = "R4", _("Did not engage within 72 hours of being contacted")
    R5 = "R5", _("Did not fully resolve an AHA case")
    R6 = "R6", _("Not compliant with local laws or regulations")
    R7 = "R7", _("Suspected fraudulent, deceptive, illegal or harmful activity")


class EnrollmentEvent(models.Model):
    """Every enrollment, removal, bar and lifted bar (who, when, why). Append-only."""

    store_account = models.ForeignKey(
        StoreAccount,
        on_delete=models.CASCADE,
        related_name="enrollment_events",
        verbose_name=_("store account"),
    )
    kind = models.CharField(
        max_length=10, choices=EnrollmentEventKind.choices, verbose_name=_("kind")
    )
    reason = models.CharField(
        max_length=2, choices=RemovalReasonChoice.choices, blank=True, verbose_name=_("reason")
    )
    day = models.DateField(
        help_text=_("The marketplace's local day it took effect."), verbose_name=_("day")
    )
    at = models.DateTimeField(default=timezone.now, verbose_name=_("when"))
    by = acted_by(_("by"))
    note = models.TextField(blank=True, max_length=2000, verbose_name=_("note"))

    class Meta:
        verbose_name = _("enrollment event")
        verbose_name_plural = _("enrollment events")
        ordering = ["-at", "-id"]
        constraints = [
            # A day close run twice must not record the same enrollment twice.
            models.UniqueConstraint(
                fields=["store_account", "kind", "day"],
                condition=Q(by__isnull=True),
                name="one_automatic_event_per_day",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.reason} {self.store_account} on {self.day}"


class StatusCause(models.TextChoices):
    AHR = "ahr", _("AHR at the close of day")
    DEACTIVATION = "deactivation", _("Deactivation")
    REINSTATEMENT = "reinstatement", _("Reinstatement")


class StatusChange(models.Model):
    """A store account's status moving (NORMAL, AT_RISK, DEACTIVATED), for the upstream feed.
    Append-only; written where the status changes, in the same transaction."""

    store_account = models.ForeignKey(StoreAccount, on_delete=models.CASCADE, related_name="+")
    previous = models.CharField(max_length=11)
    status = models.CharField(max_length=11)
    cause = models.CharField(max_length=13, choices=StatusCause.choices)
    day = models.DateField(help_text=_("The marketplace's local day it took effect."))
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        # The feed reads in (instant, id) order.
        indexes = [models.Index(fields=["at", "id"], name="status_change_by_time")]

    def __str__(self) -> str:
        return f"{self.store_account_id}: {self.previous} -> {self.status} on {self.day}"


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class DayCloseRun(models.Model):
    """One marketplace's day close: what it did and how long it took."""

    marketplace = models.ForeignKey(
        Marketplace, on_delete=models.PROTECT, related_name="+", verbose_name=_("marketplace")
    )
    day = models.DateField(verbose_name=_("day"))
    status = models.CharField(
        max_length=7, choices=RunStatus.choices, default=RunStatus.RUNNING, verbose_name=_("status")
    )
    started_at = models.DateTimeField(default=timezone.now, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    chunks_total = models.PositiveIntegerField(default=0, verbose_name=_("chunks total"))
    chunks_done = models.PositiveIntegerField(default=0, verbose_name=_("chunks done"))
    counts = models.JSONField(default=dict, blank=True, verbose_name=_("counts"))
    error = models.TextField(blank=True, verbose_name=_("error"))

    # Set by health.services.pipeline.start_day_close: the chunks its caller must enqueue.
    chunks_to_dispatch: list[DayCloseChunk]

    class Meta:
        verbose_name = _("day close run")
        verbose_name_plural = _("day close runs")
        ordering = ["-day", "marketplace_id"]
        constraints = [
            models.UniqueConstraint(fields=["marketplace", "day"], name="one_run_per_market_day")
        ]

    def __str__(self) -> str:
        return f"{self.marketplace_id} {self.day} ({self.status})"


class DayCloseChunkQuerySet(models.QuerySet["DayCloseChunk"]):
    def pending(self) -> DayCloseChunkQuerySet:
        return self.filter(done_at__isnull=True)


class DayCloseChunk(models.Model):
    """One range of store account ids of a day close run, closed by one task."""

    run = models.ForeignKey(DayCloseRun, on_delete=models.CASCADE, related_name="chunks")
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    dispatched_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)

    objects = DayCloseChunkQuerySet.as_manager()

    class Meta:
        ordering = ["run", "first_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "first_id"], name="one_chunk_per_first_id")
        ]

    def __str__(self) -> str:
        return f"{self.run} [{self.first_id}..{self.last_id}]"


# ---------------------------------------------------------------------------------------------
# Protection and enforcement
# ---------------------------------------------------------------------------------------------


class PlanOfAction(models.Model):
    """The seller's plan of action: root cause, actions taken, prevention."""

    root_cause = models.TextField(blank=True, max_length=4000, verbose_name=_("root cause"))
    actions_taken = models.TextField(blank=True, max_length=4000, verbose_name=_("actions taken"))
    prevention = models.TextField(blank=True, max_length=4000, verbose_name=_("prevention"))
    plan_submitted_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("plan submitted at")
    )

    class Meta:
        abstract = True


class CaseTrigger(models.TextChoices):
    VIOLATION = "violation", _("Deactivation-level violation")
    LOW_AHR = "low_ahr", _("AHR below 100")


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Waiting for the seller")
    ENGAGED = "engaged", _("Seller engaged")
    RESOLVED = "resolved", _("Resolved")
    UNRESOLVED = "unresolved", _("Closed unresolved")
    MISSED = "missed", _("Missed the 72-hour deadline")


OPEN_CASE_STATUSES = (CaseStatus.OPEN, CaseStatus.ENGAGED)


class EngagementKind(models.TextChoices):
    ACKNOWLEDGED = "acknowledged", _("Acknowledged on the dashboard")
    PLAN = "plan", _("Submitted a plan of action")
    SPECIALIST = "specialist", _("Talked to a specialist")
    CALLBACK = "callback", _("Completed callback")


class AHACaseQuerySet(models.QuerySet["AHACase"]):
    def open(self) -> AHACaseQuerySet:
        return self.filter(status__in=OPEN_CASE_STATUSES)

    def for_seller(self, seller: Seller | int) -> AHACaseQuerySet:
        return self.filter(store_account__seller=seller)

    def visible_to(self, user) -> AHACaseQuerySet:
        return self.filter(store_account__in=StoreAccount.objects.visible_to(user))


class AHACase(PlanOfAction):
    """The specialist process opened when a deactivation-level event hits a protected account."""

    store_account = models.ForeignKey(
        StoreAccount,
        on_delete=models.CASCADE,
        related_name="cases",
        verbose_name=_("store account"),
    )
    trigger = models.CharField(max_length=9, choices=CaseTrigger.choices, verbose_name=_("trigger"))
    violation = models.ForeignKey(
        Violation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("violation"),
    )
    trigger_day = models.DateField(
        help_text=_("The local day of the event."), verbose_name=_("trigger day")
    )
    status = models.CharField(
        max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN, verbose_name=_("status")
    )
    opened_at = models.DateTimeField(default=timezone.now, verbose_name=_("opened at"))
    first_contacted_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("first contacted at")
    )
    deadline_at = models.DateTimeField(null=True, blank=True, verbose_name=_("deadline at"))
    engaged_at = models.DateTimeField(null=True, blank=True, verbose_name=_("engaged at"))
    engagement = models.CharField(
        max_length=12, choices=EngagementKind.choices, blank=True, verbose_name=_("engagement")
    )
    assigned_to = models.ForeignKey(
        USER,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_cases",
        verbose_name=_("assigned to"),
    )
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed at"))
    closed_by = acted_by(_("closed by"))
    close_note = models.TextField(blank=True, max_length=4000, verbose_name=_("close note"))

    objects = AHACaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("AHA case")
        verbose_name_plural = _("AHA cases")
        ordering = ["deadline_at", "opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["store_account", "violation"],
                condition=Q(violation__isnull=False),
                name="one_case_per_violation",
            ),
            models.UniqueConstraint(
                fields=["store_account", "trigger_day"],
                condition=Q(trigger="low_ahr"),
                name="one_low_ahr_case_per_day",
            ),
        ]
        # The deadline gauges of /metrics (health.metrics).
        indexes = [
            models.Index(
                fields=["deadline_at"], condition=Q(status="open"), name="case_waiting_deadline"
            )
        ]

    def __str__(self) -> str:
        return _("AHA case #%(id)s on %(store)s") % {"id": self.pk, "store": self.store_account}

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_CASE_STATUSES


class ContactChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")


class ContactOutcome(models.TextChoices):
    REACHED = "reached", _("Reached the seller")
    NO_ANSWER = "no_answer", _("No answer")
    VOICEMAIL = "voicemail", _("Left a voicemail")
    SENT = "sent", _("Sent")


class ContactAttempt(models.Model):
    """A specialist's attempt to reach the seller about a case."""

    case = models.ForeignKey(
        AHACase,
        on_delete=models.CASCADE,
        related_name="contact_attempts",
        verbose_name=_("AHA case"),
    )
    channel = models.CharField(
        max_length=5, choices=ContactChannel.choices, verbose_name=_("channel")
    )
    outcome = models.CharField(
        max_length=9, choices=ContactOutcome.choices, verbose_name=_("outcome")
    )
    note = models.TextField(blank=True, max_length=2000, verbose_name=_("note"))
    at = models.DateTimeField(default=timezone.now, verbose_name=_("when"))
    by = acted_by(_("by"))

    class Meta:
        verbose_name = _("contact attempt")
        verbose_name_plural = _("contact attempts")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: {self.get_outcome_display()}"


class EnforcementKind(models.TextChoices):
    DEACTIVATION = "deactivation", _("Deactivated for a deactivation-level violation")
    LOW_AHR_WARNING = "low_ahr_warning", _("Warning: AHR below 100")
    REMOVAL = "removal", _("Deactivated on losing AHA")


class EnforcementStatus(models.TextChoices):
    WARNING = "warning", _("Warning, deadline running")
    CLEARED = "cleared", _("Cleared before the deadline")
    DEACTIVATED = "deactivated", _("Deactivated")
    APPEALED = "appealed", _("Appeal submitted")
    REINSTATED = "reinstated", _("Reinstated")
    REJECTED = "rejected", _("Appeal rejected")


class Enforcement(PlanOfAction):
    """Standard enforcement for an unprotected store account, with its appeal."""

    store_account = models.ForeignKey(
        StoreAccount,
        on_delete=models.CASCADE,
        related_name="enforcements",
        verbose_name=_("store account"),
    )
    kind = models.CharField(max_length=15, choices=EnforcementKind.choices, verbose_name=_("kind"))
    violation = models.ForeignKey(
        Violation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="enforcements",
        verbose_name=_("violation"),
    )
    reason = models.CharField(
        max_length=2,
        choices=RemovalReasonChoice.choices,
        blank=True,
        help_text=_("For a deactivation on losing AHA: R4, R5 or R7."),
        verbose_name=_("reason"),
    )
    case = models.ForeignKey(
        "AHACase",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("AHA case"),
    )
    trigger_day = models.DateField(verbose_name=_("trigger day"))
    status = models.CharField(
        max_length=11, choices=EnforcementStatus.choices, verbose_name=_("status")
    )
    opened_at = models.DateTimeField(default=timezone.now, verbose_name=_("opened at"))
    deadline_at = models.DateTimeField(null=True, blank=True, verbose_name=_("deadline at"))
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided at"))
    decided_by = acted_by(_("decided by"))
    decision_note = models.TextField(blank=True, max_length=4000, verbose_name=_("decision note"))

    class Meta:
        verbose_name = _("enforcement")
        verbose_name_plural = _("enforcements")
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["store_account", "violation"],
                condition=Q(violation__isnull=False),
                name="one_enforcement_per_violation",
            ),
            models.UniqueConstraint(
                fields=["store_account", "trigger_day"],
                condition=Q(kind="low_ahr_warning"),
                name="one_low_ahr_warning_per_day",
            ),
        ]

    def __str__(self) -> str:
        return _("%(kind)s on %(store)s") % {
            "kind": self.get_kind_display(),
            "store": self.store_account,
        }


class AppealStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a specialist")
    ACCEPTED = "accepted", _("Accepted: reinstated")
    REJECTED = "rejected", _("Rejected")


class AppealQuerySet(models.QuerySet["Appeal"]):
    def pending(self) -> AppealQuerySet:
        return self.filter(status=AppealStatus.PENDING)


class Appeal(PlanOfAction):
    """One plan of action a seller sent against a deactivation, and the specialist's decision.
    A rejected appeal may be followed by a new one; every one is kept."""

    enforcement = models.ForeignKey(
        Enforcement, on_delete=models.CASCADE, related_name="appeals", verbose_name=_("enforcement")
    )
    submitted_by = acted_by(_("submitted by"))
    status = models.CharField(
        max_length=8,
        choices=AppealStatus.choices,
        default=AppealStatus.PENDING,
        verbose_name=_("status"),
    )
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided at"))
    decided_by = acted_by(_("decided by"))
    decision_note = models.TextField(blank=True, max_length=4000, verbose_name=_("decision note"))

    objects = AppealQuerySet.as_manager()

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        ordering = ["-plan_submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enforcement"],
                condition=Q(status="pending"),
                name="one_pending_appeal_per_enforcement",
            )
        ]

    def __str__(self) -> str:
        return _("Appeal #%(id)s of %(enforcement)s") % {
            "id": self.pk,
            "enforcement": self.enforcement,
        }


# ---------------------------------------------------------------------------------------------
# Call me now
# ---------------------------------------------------------------------------------------------


class CallbackStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting for a specialist")
    CLAIMED = "claimed", _("A specialist is calling you")
    COMPLETED = "completed", _("Completed")
    NO_ANSWER = "no_answer", _("No answer")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_CALLBACK_STATUSES = (CallbackStatus.QUEUED, CallbackStatus.CLAIMED)


class CallbackRequestQuerySet(models.QuerySet["CallbackRequest"]):
    def open(self) -> CallbackRequestQuerySet:
        return self.filter(status__in=OPEN_CALLBACK_STATUSES)

    def for_seller(self, seller: Seller | int) -> CallbackRequestQuerySet:
        return self.filter(seller=seller)

    def queued(self) -> CallbackRequestQuerySet:
        return self.filter(status=CallbackStatus.QUEUED)

    def with_urgency(self, marketplaces: Collection[str] | None = None) -> CallbackRequestQuerySet:
        """Annotate `urgent`: the seller has an open AHA case, so the request goes first.

        With `marketplaces`, only cases there count (a specialist limited to some stores)."""
        open_cases = AHACase.objects.open().filter(store_account__seller_id=OuterRef("seller_id"))
        if marketplaces is not None:
            open_cases = open_cases.filter(store_account__marketplace_id__in=marketplaces)
        return self.annotate(urgent=Exists(open_cases))

    def in_queue_order(self) -> CallbackRequestQuerySet:
        """The order specialists take requests in: urgent ones first, then oldest first."""
        return self.with_urgency().order_by("-urgent", "created_at", "id")

    def with_queue_position(self) -> CallbackRequestQuerySet:
        """Annotate `queue_position` (1 = next to be called; None unless queued) in one query."""
        ahead = (
            CallbackRequest.objects.queued()
            .with_urgency()
            .filter(
                Q(urgent__gt=OuterRef("urgent"))
                | Q(urgent=OuterRef("urgent"), created_at__lt=OuterRef("created_at"))
                | Q(
                    urgent=OuterRef("urgent"),
                    created_at=OuterRef("created_at"),
                    id__lt=OuterRef("id"),
                )
            )
            .order_by()
            .values("status")
            .annotate(n=Count("id"))
            .values("n")
        )
        position = Coalesce(Subquery(ahead), Value(0)) + Value(1)
        return self.with_urgency().annotate(
            queue_position=Case(
                When(status=CallbackStatus.QUEUED, then=position),
                default=Value(None),
                output_field=models.IntegerField(),
            )
        )


class CallbackRequest(models.Model):
    """A "Call me now" request from a seller."""

    seller = models.ForeignKey(
        Seller, on_delete=models.CASCADE, related_name="callback_requests", verbose_name=_("seller")
    )
    requested_by = models.ForeignKey(
        USER,
        null=True,
        on_delete=models.SET_NULL,
        related_name="callback_requests",
        verbose_name=_("requested by"),
    )
    phone = models.CharField(
        max_length=20, help_text=_("E.164 number to call."), verbose_name=_("phone")
    )
    topic = models.CharField(max_length=200, blank=True, verbose_name=_("topic"))
    case = models.ForeignKey(
        AHACase,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="callbacks",
        verbose_name=_("AHA case"),
    )
    status = models.CharField(
        max_length=9,
        choices=CallbackStatus.choices,
        default=CallbackStatus.QUEUED,
        verbose_name=_("status"),
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    claimed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("claimed at"))
    claimed_by = models.ForeignKey(
        USER,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="claimed_callbacks",
        verbose_name=_("claimed by"),
    )
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    note = models.TextField(blank=True, max_length=2000, verbose_name=_("note"))

    objects = CallbackRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("callback request")
        verbose_name_plural = _("callback requests")
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["seller"],
                condition=Q(status__in=["queued", "claimed"]),
                name="one_open_callback_per_seller",
            )
        ]
        # The queue gauges of /metrics (health.metrics).
        indexes = [
            models.Index(
                fields=["status", "created_at"],
                condition=Q(status__in=["queued", "claimed"]),
                name="callback_waiting",
            )
        ]

    def __str__(self) -> str:
        return _("Callback #%(id)s for %(seller)s") % {"id": self.pk, "seller": self.seller}


# ---------------------------------------------------------------------------------------------
# Email outbox and audit trail
# ---------------------------------------------------------------------------------------------


class EmailKind(models.TextChoices):
    ENROLLED = "enrolled", _("Enrolled in AHA")
    CONTACT_NEEDED = "contact_needed", _("Eligible, add an emergency contact")
    REMOVED = "removed", _("AHA lost")
    CASE_OPENED = "case_opened", _("AHA case opened")
    CASE_REMINDER = "case_reminder", _("AHA case reminder")
    CASE_CLOSED = "case_closed", _("AHA case resolved or unresolved")
    DEACTIVATED = "deactivated", _("Store account deactivated")
    LOW_AHR_WARNING = "low_ahr_warning", _("AHR below 100 warning")
    REINSTATED = "reinstated", _("Store account reinstated")
    CALLBACK_RECEIVED = "callback_received", _("Callback request received")
    CALLBACK_NO_ANSWER = "callback_no_answer", _("Callback with no answer")
    APPEAL_RECEIVED = "appeal_received", _("Appeal received")
    APPEAL_REJECTED = "appeal_rejected", _("Appeal rejected")
    STALE_RUNS = "stale_runs", _("Operators: a marketplace has not closed a day")
    INVITE = "invite", _("Invitation to set a password")
    SET_PASSWORD = "set_password", _("Link to set a new password")


class EmailStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed after the last try")


class OutboxEmail(models.Model):
    """An email written in the same transaction as its cause, sent once by a worker."""

    key = models.CharField(
        max_length=200, unique=True, help_text=_("kind:object:occurrence"), verbose_name=_("key")
    )
    kind = models.CharField(max_length=20, choices=EmailKind.choices, verbose_name=_("kind"))
    seller = models.ForeignKey(
        Seller,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="emails",
        verbose_name=_("seller"),
    )
    store_account = models.ForeignKey(
        StoreAccount,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="emails",
        verbose_name=_("store account"),
    )
    to = models.CharField(max_length=500, verbose_name=_("recipient"))
    language = models.CharField(max_length=5, default="en", verbose_name=_("language"))
    context = models.JSONField(default=dict, blank=True, verbose_name=_("context"))
    status = models.CharField(
        max_length=7,
        choices=EmailStatus.choices,
        default=EmailStatus.PENDING,
        verbose_name=_("status"),
    )
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    next_attempt_at = models.DateTimeField(default=timezone.now, verbose_name=_("next attempt at"))
    last_error = models.TextField(blank=True, verbose_name=_("last error"))
    subject = models.CharField(max_length=300, blank=True, verbose_name=_("subject"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))

    class Meta:
        verbose_name = _("outbox email")
        verbose_name_plural = _("outbox emails")
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="outbox_due",
            ),
            # The outbox gauges of /metrics (health.metrics).
            models.Index(
                fields=["status", "created_at"],
                condition=Q(status__in=["pending", "sending", "failed"]),
                name="outbox_unsent",
            ),
        ]

    def __str__(self) -> str:
        return self.key


class AuditEntry(models.Model):
    """A specialist action: who, when, what, why, on which store account."""

    at = models.DateTimeField(default=timezone.now, verbose_name=_("when"))
    actor = models.ForeignKey(
        USER, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("actor")
    )
    # An upstream system's write through the API has a client instead of a person.
    api_client = models.ForeignKey(
        "api.ApiClient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("API client"),
    )
    action = models.CharField(max_length=60, verbose_name=_("action"))
    store_account = models.ForeignKey(
        StoreAccount,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="audit_entries",
        verbose_name=_("store account"),
    )
    target = models.CharField(
        max_length=100, blank=True, help_text=_("e.g. case:12"), verbose_name=_("target")
    )
    reason = models.TextField(blank=True, max_length=4000, verbose_name=_("reason"))
    details = models.JSONField(default=dict, blank=True, verbose_name=_("details"))

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.target}"


# ---------------------------------------------------------------------------------------------
# The specialist's workplace: one-time action tokens, internal case notes, text snippets
# ---------------------------------------------------------------------------------------------


class UsedActionToken(models.Model):
    """The one-time token of an action form, written in the action's own transaction, so a
    repeated or double-clicked submission finds it taken and changes nothing."""

    token = models.CharField(max_length=64, primary_key=True)
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=60)
    at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.action} by {self.user_id} at {self.at:%Y-%m-%d %H:%M}"


class CaseNote(models.Model):
    """A specialist's internal note on an AHA case; sellers never see it."""

    case = models.ForeignKey(
        AHACase, on_delete=models.CASCADE, related_name="internal_notes", verbose_name=_("AHA case")
    )
    by = models.ForeignKey(
        USER, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(default=timezone.now, verbose_name=_("when"))
    text = models.TextField(max_length=4000, verbose_name=_("text"))

    class Meta:
        verbose_name = _("internal note")
        verbose_name_plural = _("internal notes")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"Note on case {self.case_id} by {self.by}"


class SnippetKind(models.TextChoices):
    CONTACT = "contact", _("Contact-attempt note")
    OUTREACH = "outreach", _("Outreach text")


class TextSnippet(models.Model):
    """Reusable text for contact-attempt notes and outreach, managed in the back office."""

    title = models.CharField(_("title"), max_length=100)
    kind = models.CharField(
        _("kind"), max_length=8, choices=SnippetKind.choices, default=SnippetKind.CONTACT
    )
    language = models.CharField(
        _("language"), max_length=5, choices=settings.LANGUAGES, default="en"
    )
    text = models.TextField(_("text"), max_length=2000)

    class Meta:
        verbose_name = _("text snippet")
        verbose_name_plural = _("text snippets")
        ordering = ["kind", "language", "title"]

    def __str__(self) -> str:
        return f"{self.title} ({self.language})"
