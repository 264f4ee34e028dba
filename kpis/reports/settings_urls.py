from django.urls import path

from . import settings_views as views

urlpatterns = [
    path("reports/", views.ReportSubscriptionView.as_view(), name="settings-reports"),
    path(
        "reports/unsubscribe/",
        views.ReportUnsubscribeView.as_view(),
        name="settings-report-unsubscribe",
    ),
    path(
        "reports/<int:pk>/remove/",
        views.ReportSubscriptionRemoveView.as_view(),
        name="settings-report-remove",
    ),
]
