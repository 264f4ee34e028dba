from django.urls import path

from . import settings_views as views

urlpatterns = [
    path(
        "campaigns/<int:pk>/thresholds/",
        views.CampaignThresholdsView.as_view(),
        name="settings-campaign-thresholds",
    ),
]
