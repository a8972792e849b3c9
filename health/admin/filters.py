"""List filters shared by the back office queues."""

from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import Marketplace
from health.admin import scope


class MarketplaceFilter(admin.SimpleListFilter):
    """Only the marketplaces with store accounts in the user's stores (not every marketplace)."""

    title = _("marketplace")
    parameter_name = "marketplace"
    path = "store_account__marketplace_id"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        codes = scope.store_accounts(request).values("marketplace_id")
        return [(m.code, str(m)) for m in Marketplace.objects.filter(code__in=codes)]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        if self.value():
            return queryset.filter(**{self.path: self.value()})
        return queryset


class StoreMarketplaceFilter(MarketplaceFilter):
    path = "marketplace_id"
