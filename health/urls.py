from django.urls import path

import aha_site.converters  # noqa: F401  (registers the "id" converter)
from health.views import callbacks, cases, contact, dashboard, language, timeline, violations

app_name = "health"
store = "stores/<id:store_account_id>/"
urlpatterns = [
    path(store, dashboard.dashboard, name="dashboard"),
    path(f"{store}violations/<id:violation_id>/", violations.violation, name="violation"),
    path(f"{store}timeline/", timeline.timeline, name="timeline"),
    path(f"{store}emergency-contact/", contact.emergency_contact, name="emergency_contact"),
    path(f"{store}callback/", callbacks.request_callback, name="request_callback"),
    path(f"{store}callback/status/", callbacks.callback_status, name="callback_status"),
    path(
        f"{store}callback/<id:callback_id>/cancel/",
        callbacks.cancel_callback,
        name="cancel_callback",
    ),
    path(
        f"{store}cases/<id:case_id>/acknowledge/",
        cases.acknowledge_case,
        name="acknowledge_case",
    ),
    path(f"{store}cases/<id:case_id>/plan/", cases.plan_of_action, name="plan_of_action"),
    path(f"{store}enforcements/<id:enforcement_id>/appeal/", cases.appeal, name="appeal"),
    path("timeline/", timeline.seller_timeline, name="seller_timeline"),
    path("language/", language.set_language, name="set_language"),
]
