"""API clients in the back office: who calls, with which scopes, last use, and revoking."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from api.models import ApiClient, ImportRun
from api.services.clients import revoke_api_client


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "token_prefix",
        "scope_list",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "token_prefix"]
    readonly_fields = ["name", "token_prefix", "scopes", "created_at", "last_used_at", "revoked_at"]
    fields = readonly_fields
    actions = ["revoke"]

    @admin.display(description="scopes")
    def scope_list(self, obj: ApiClient) -> str:
        return ", ".join(obj.scopes)

    # Clients are made with `manage.py create_api_client`, which prints the token once.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ApiClient | None = None) -> bool:
        return False

    @admin.action(description="Revoke the selected clients' tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiClient]) -> None:
        for client in queryset:
            revoke_api_client(client=client)
        self.message_user(request, f"Revoked {queryset.count()} client(s).", messages.SUCCESS)


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ["started_at", "directory", "status", "stage", "seconds", "counts"]
    readonly_fields = [
        "directory",
        "status",
        "stage",
        "started_at",
        "finished_at",
        "seconds",
        "counts",
        "error",
    ]
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ImportRun | None = None) -> bool:
        return False
