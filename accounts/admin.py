from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp import admin as otp_totp_admin
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import EmergencyContact, Marketplace, Seller, StoreAccount, User


class HasStoresFilter(admin.SimpleListFilter):
    """Marketplaces without a store account are hidden until asked for (most have none)."""

    title = _("store accounts")
    parameter_name = "stores"

    def lookups(self, request, model_admin) -> list:
        return [("yes", _("With store accounts")), ("all", _("All marketplaces"))]

    def value(self) -> str:
        return super().value() or "yes"

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        if self.value() == "all":
            return queryset
        return queryset.filter(Exists(StoreAccount.objects.filter(marketplace=OuterRef("pk"))))


@admin.register(Marketplace)
class MarketplaceAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "time_zone", "language", "currency", "aha_available_from"]
    list_filter = [HasStoresFilter]
    search_fields = ["code", "name"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class StoreAccountInline(admin.TabularInline):
    model = StoreAccount
    extra = 0
    fields = ["marketplace", "plan", "status", "opened_on"]
    readonly_fields = ["status"]
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).in_scope_of(request.user)


class EmergencyContactInline(admin.StackedInline):
    model = EmergencyContact
    extra = 0
    fields = ["phone", "updated_at", "updated_by"]
    readonly_fields = ["updated_at", "updated_by"]


class SellerUserInline(admin.TabularInline):
    model = User
    extra = 0
    fields = ["username", "email", "language", "is_active", "last_login"]
    readonly_fields = ["username", "last_login"]
    show_change_link = True
    verbose_name = _("team member")
    verbose_name_plural = _("team members")


@admin.register(Seller)
class SellerAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "language", "created_at"]
    search_fields = ["name", "email", "users__username"]
    list_filter = ["language"]
    inlines = [EmergencyContactInline, StoreAccountInline, SellerUserInline]

    def get_queryset(self, request):
        # A specialist limited to some stores sees only the sellers selling there.
        sellers = super().get_queryset(request)
        limited = request.user.marketplaces.all()
        if request.user.is_superuser or not limited.exists():
            return sellers
        stores = StoreAccount.objects.filter(seller=OuterRef("pk"), marketplace__in=limited)
        return sellers.filter(Exists(stores))


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "seller", "is_staff", "language"]
    list_filter = ["is_staff", "is_superuser", "groups", "language"]
    list_select_related = ["seller"]
    raw_id_fields = ["seller"]
    fieldsets = [
        *DjangoUserAdmin.fieldsets,
        (_("Account health"), {"fields": ["seller", "language", "marketplaces"]}),
    ]
    filter_horizontal = ["groups", "user_permissions", "marketplaces"]


class TOTPDeviceAdmin(otp_totp_admin.TOTPDeviceAdmin):
    """django-otp's admin, answering 404 (not 500) for a device that does not exist."""

    def config_view(self, request, pk):
        get_object_or_404(TOTPDevice, pk=pk)
        return super().config_view(request, pk)

    def qrcode_view(self, request, pk):
        get_object_or_404(TOTPDevice, pk=pk)
        return super().qrcode_view(request, pk)


admin.site.unregister(TOTPDevice)
admin.site.register(TOTPDevice, TOTPDeviceAdmin)
