from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from calls.webhooks import (
    twilio_status_callback,
    twilio_voice,
    twilio_voice_action,
    twilio_voice_answered,
)
from ops import views as ops_views
from ppc_dashboard.tenancy import views as tenancy_views

urlpatterns = [
    # The API and the webhooks first: a request is matched against the patterns in order, and
    # the pages' dozens came before them (7% of a route decision's CPU).
    path("api/v1/", include("ppc_dashboard.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file of its own: the CSP allows no inline
    # script; the template links a stylesheet instead of its inline <style>.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api_docs.html"),
        name="api-docs",
    ),
    path("hooks/twilio/<str:token>/", twilio_status_callback, name="twilio-status-callback"),
    path("hooks/twilio/<str:token>/voice", twilio_voice, name="twilio-voice"),
    path("hooks/twilio/<str:token>/voice/", twilio_voice),
    path("hooks/twilio/<str:token>/voice/action", twilio_voice_action, name="twilio-voice-action"),
    path("hooks/twilio/<str:token>/voice/action/", twilio_voice_action),
    path(
        "hooks/twilio/<str:token>/voice/answered",
        twilio_voice_answered,
        name="twilio-voice-answered",
    ),
    path("hooks/twilio/<str:token>/voice/answered/", twilio_voice_answered),
    # Twilio signs and posts to the exact URL it was given, and does not follow a redirect on
    # POST: the URL without the slash is the same webhook, not a redirect to it.
    path("hooks/twilio/<str:token>", twilio_status_callback),
    path("", include("kpis.pages.urls")),
    path("", include("calls.urls")),
    path("", include("alerts.urls")),
    path("login/", tenancy_views.LoginView.as_view(), name="login"),
    path("logout/", tenancy_views.LogoutView.as_view(), name="logout"),
    path("reports/", include("kpis.reports.urls")),
    # Each app's settings pages under one prefix.
    path("settings/", include("ppc_dashboard.tenancy.settings_urls")),
    path("settings/", include("calls.settings_urls")),
    path("settings/", include("publishers.settings_urls")),
    path("settings/", include("routing.settings_urls")),
    path("settings/", include("kpis.pages.settings_urls")),
    path("settings/", include("kpis.reports.settings_urls")),
    path("settings/", include("alerts.settings_urls")),
    path("switch/", tenancy_views.organization_switch_view, name="organization-switch"),
    path(
        "invitations/<str:token>/",
        tenancy_views.InvitationAcceptView.as_view(),
        name="invitation-accept",
    ),
    path("admin/", admin.site.urls),
    # Answered by ops.middleware before host checks; the routes give them their names.
    path("healthz", ops_views.healthz, name="healthz"),
    path("readyz", ops_views.readyz, name="readyz"),
]

# JSON in the one error shape under /api/ and /hooks/, Django's pages elsewhere.
handler400 = "ppc_dashboard.tenancy.exceptions.bad_request"
handler403 = "ppc_dashboard.tenancy.exceptions.permission_denied"
handler404 = "ppc_dashboard.tenancy.exceptions.page_not_found"
handler500 = "ppc_dashboard.tenancy.exceptions.server_error"
