from django.urls import path

from . import settings_views as views

urlpatterns = [
    path("report-tags/", views.ReportTagsView.as_view(), name="settings-report-tags"),
    path(
        "campaigns/<int:pk>/thresholds/",
        views.CampaignThresholdsView.as_view(),
        name="settings-campaign-thresholds",
    ),
]
