"""Users, sellers, marketplaces (stores), store accounts and emergency contacts."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import zoneinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext, pgettext_lazy
from phonenumber_field.modelfields import PhoneNumberField

from accounts.phones import is_dialable, validate_dialable

logger = logging.getLogger(__name__)


def validate_time_zone(name: str) -> None:
    """ValidationError unless `name` is a time zone this server knows (IANA, e.g. Europe/Warsaw)."""
    if name not in _known_time_zones():
        raise ValidationError(
            _("%(name)s is not a known time zone. Use an IANA name such as Europe/Warsaw."),
            params={"name": name},
            code="unknown_time_zone",
        )


def zone_named(name: str) -> ZoneInfo:
    """The time zone of that name; UTC (and an error in the log) for one this server lacks."""
    try:
        return ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        # A zone stored before zones were validated: UTC keeps the pages up, the log says why.
        logger.error("Unknown time zone %r stored on a marketplace", name)
        return ZoneInfo("UTC")


@functools.cache
def _known_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def acted_by(verbose_name: str) -> models.ForeignKey:
    """The user who did something to a row. The row outlives the user: deleting the user only
    empties the link, and a user has no reverse accessor for it."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=verbose_name,
    )


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    POLISH = "pl", _("Polish")


# The stores' names as stored (English), marked for translation: a page or an email shows
# `Marketplace.display_name`, the name in the active language.
MARKETPLACE_NAME_CONTEXT = "marketplace"
MARKETPLACE_NAMES = (
    pgettext_lazy("marketplace", "United States"),
    pgettext_lazy("marketplace", "Canada"),
    pgettext_lazy("marketplace", "Mexico"),
    pgettext_lazy("marketplace", "Brazil"),
    pgettext_lazy("marketplace", "United Kingdom"),
    pgettext_lazy("marketplace", "Germany"),
    pgettext_lazy("marketplace", "France"),
    pgettext_lazy("marketplace", "Italy"),
    pgettext_lazy("marketplace", "Spain"),
    pgettext_lazy("marketplace", "Netherlands"),
    pgettext_lazy("marketplace", "Sweden"),
    pgettext_lazy("marketplace", "Poland"),
    pgettext_lazy("marketplace", "Belgium"),
    pgettext_lazy("marketplace", "Türkiye"),
    pgettext_lazy("marketplace", "United Arab Emirates"),
    pgettext_lazy("marketplace", "Saudi Arabia"),
    pgettext_lazy("marketplace", "Egypt"),
    pgettext_lazy("marketplace", "India"),
    pgettext_lazy("marketplace", "Japan"),
    pgettext_lazy("marketplace", "Australia"),
    pgettext_lazy("marketplace", "Singapore"),
)
# The names that read differently inside a sentence ("your store account in the United States").
MARKETPLACE_NAMES_IN_SENTENCE = {
    "United States": pgettext_lazy("marketplace in a sentence", "the United States"),
    "United Kingdom": pgettext_lazy("marketplace in a sentence", "the United Kingdom"),
    "Netherlands": pgettext_lazy("marketplace in a sentence", "the Netherlands"),
    "United Arab Emirates": pgettext_lazy("marketplace in a sentence", "the United Arab Emirates"),
}


class Marketplace(models.Model):
    """A country store, with its own time zone: its days close at its local midnight."""

    code = models.CharField(max_length=2, primary_key=True, verbose_name=_("code"))
    name = models.CharField(max_length=60, verbose_name=_("name"))
    time_zone = models.CharField(
        _("time zone"),
        max_length=40,
        validators=[validate_time_zone],
        help_text=_("An IANA time zone name, e.g. Europe/Warsaw."),
    )
    language = models.CharField(max_length=5, verbose_name=_("language"))
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    aha_available_from = models.DateField(verbose_name=_("AHA available from"))

    class Meta:
        verbose_name = _("marketplace")
        verbose_name_plural = _("marketplaces")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.code})"

    def save(self, *args: object, **kwargs: object) -> None:
        # Every day close and local time depends on the zone: none is stored that does not exist,
        # whatever the path (admin, shell, data migration).
        validate_time_zone(self.time_zone)
        super().save(*args, **kwargs)

    @property
    def zone(self) -> ZoneInfo:
        return zone_named(self.time_zone)

    @property
    def display_name(self) -> str:
        """The store's country name in the active language ("Polska" in Polish)."""
        return pgettext(MARKETPLACE_NAME_CONTEXT, self.name) if self.name else self.code

    @property
    def name_in_sentence(self) -> str:
        """The name as it reads inside a sentence in the active language ("in the United States";
        the Polish texts put it after "sklep:", where it stays as it is)."""
        if self.name in MARKETPLACE_NAMES_IN_SENTENCE:
            return str(MARKETPLACE_NAMES_IN_SENTENCE[self.name])
        return self.display_name

    @property
    def phone_region(self) -> str:
        """The ISO 3166 region libphonenumber expects (the UK store is GB)."""
        return "GB" if self.code == "UK" else self.code

    def local_date(self, at: dt.datetime | None = None) -> dt.date:
        """The calendar day in this marketplace at the given instant (now by default)."""
        return (at or timezone.now()).astimezone(self.zone).date()


class Seller(models.Model):
    """A business; its team members are users, its store accounts are per marketplace."""

    name = models.CharField(max_length=200, verbose_name=_("name"))
    email = models.EmailField(
        help_text=_("Where account health emails go."), verbose_name=_("email")
    )
    language = models.CharField(
        max_length=5, choices=Language.choices, default=Language.ENGLISH, verbose_name=_("language")
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    # The upstream system's own id (the API's upsert key); empty for rows made here.
    external_id = models.CharField(
        max_length=100, null=True, blank=True, unique=True, verbose_name=_("external ID")
    )

    class Meta:
        verbose_name = _("seller")
        verbose_name_plural = _("sellers")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


# The auth group whose permissions make a staff user an account health specialist (migration
# health 0002 creates it with those permissions).
SPECIALISTS_GROUP = "specialists"


class User(AbstractUser):
    """A person who signs in: a seller's team member, or staff (a specialist or an operator)."""

    seller = models.ForeignKey(
        Seller,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        verbose_name=_("seller"),
    )
    language = models.CharField(
        max_length=5, choices=Language.choices, default=Language.ENGLISH, verbose_name=_("language")
    )
    marketplaces = models.ManyToManyField(
        Marketplace,
        blank=True,
        related_name="specialists",
        help_text=_("Limit a specialist to these stores. Empty means every store."),
        verbose_name=_("marketplaces"),
    )
    # The upstream system's own id (the API's upsert key); empty for rows made here.
    external_id = models.CharField(
        max_length=100, null=True, blank=True, unique=True, verbose_name=_("external ID")
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(seller__isnull=True) | Q(is_staff=False),
                name="staff_users_belong_to_no_seller",
            )
        ]


class SellingPlan(models.TextChoices):
    PROFESSIONAL = "PRO", _("Professional")
    INDIVIDUAL = "IND", _("Individual")


class StoreStatus(models.TextChoices):
    # In context: the words agree with "store account" (Polish "konto", neuter), not the AHR.
    NORMAL = "NORMAL", pgettext_lazy("store account status", "Normal")
    AT_RISK = "AT_RISK", pgettext_lazy("store account status", "At risk")
    DEACTIVATED = "DEACTIVATED", pgettext_lazy("store account status", "Deactivated")


class StoreAccountQuerySet(models.QuerySet["StoreAccount"]):
    def visible_to(self, user: User) -> StoreAccountQuerySet:
        """The store accounts this user may see: its seller's, or a specialist's stores."""
        if not user.is_authenticated:
            return self.none()
        if user.seller_id is not None:
            return self.filter(seller_id=user.seller_id)
        if user.is_staff:
            return self.in_scope_of(user)
        return self.none()

    def in_scope_of(self, user: User) -> StoreAccountQuerySet:
        """For staff: all stores, or only the marketplaces the specialist is limited to."""
        if user.is_superuser:
            return self
        limited = list(user.marketplaces.values_list("code", flat=True))
        return self.filter(marketplace_id__in=limited) if limited else self

    def professional(self) -> StoreAccountQuerySet:
        return self.filter(plan=SellingPlan.PROFESSIONAL)

    def in_marketplace(self, marketplace: Marketplace | str) -> StoreAccountQuerySet:
        return self.filter(marketplace=marketplace)


class StoreAccount(models.Model):
    """A seller in one marketplace. AHR, eligibility and enrollment are all per store account."""

    seller = models.ForeignKey(
        Seller, on_delete=models.PROTECT, related_name="store_accounts", verbose_name=_("seller")
    )
    marketplace = models.ForeignKey(
        Marketplace, on_delete=models.PROTECT, related_name="+", verbose_name=_("marketplace")
    )
    plan = models.CharField(
        max_length=3,
        choices=SellingPlan.choices,
        default=SellingPlan.PROFESSIONAL,
        verbose_name=_("plan"),
    )
    status = models.CharField(
        max_length=11,
        choices=StoreStatus.choices,
        default=StoreStatus.NORMAL,
        verbose_name=_("status"),
    )
    opened_on = models.DateField(verbose_name=_("opened on"))
    # The upstream system's own id (the API's upsert key); empty for rows made here.
    external_id = models.CharField(
        max_length=100, null=True, blank=True, unique=True, verbose_name=_("external ID")
    )

    objects = StoreAccountQuerySet.as_manager()

    class Meta:
        verbose_name = _("store account")
        verbose_name_plural = _("store accounts")
        ordering = ["seller_id", "marketplace_id"]
        constraints = [
            models.UniqueConstraint(fields=["seller", "marketplace"], name="one_store_per_market")
        ]
        indexes = [models.Index(fields=["marketplace", "id"], name="store_by_market")]

    def __str__(self) -> str:
        return _("%(seller)s in %(marketplace)s") % {
            "seller": self.seller,
            "marketplace": self.marketplace_id,
        }

    @property
    def is_professional(self) -> bool:
        return self.plan == SellingPlan.PROFESSIONAL


class EmergencyContact(models.Model):
    """The phone number specialists call when a store account is in danger."""

    seller = models.OneToOneField(
        Seller, on_delete=models.CASCADE, related_name="emergency_contact", verbose_name=_("seller")
    )
    phone = PhoneNumberField(_("emergency contact phone number"), validators=[validate_dialable])
    # `is_valid` judged once when the number is saved, so the nightly close of a million store
    # accounts reads a column instead of parsing every number; None (rows written in bulk,
    # bypassing save) means not judged yet, and readers judge the number themselves.
    is_dialable = models.BooleanField(
        null=True, blank=True, editable=False, verbose_name=_("is dialable")
    )
    updated_at = models.DateTimeField(default=timezone.now, verbose_name=_("updated at"))
    updated_by = acted_by(_("updated by"))

    class Meta:
        verbose_name = _("emergency contact")
        verbose_name_plural = _("emergency contacts")

    def __str__(self) -> str:
        return str(self.phone)

    def save(self, *args: object, **kwargs: object) -> None:
        self.is_dialable = self.is_valid
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "phone" in update_fields:
            kwargs["update_fields"] = {*update_fields, "is_dialable"}
        super().save(*args, **kwargs)

    @property
    def is_valid(self) -> bool:
        """A real, dialable number as libphonenumber judges it (E2)."""
        return is_dialable(self.phone)
