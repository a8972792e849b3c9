from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from aha_site import views
from aha_site.observability import views as observability
from api.api import api

# "Account Health Assurance" is the programme's name and stays in English (glossary).
admin.site.site_header = "Account Health Assurance"
admin.site.site_title = _("AHA back office")
admin.site.index_title = _("Specialist workplace")

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("healthz/db", views.healthz_db, name="healthz_db"),
    path("metrics", observability.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("accounts.urls")),
    path("", include("health.urls")),
]
