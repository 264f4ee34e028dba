from django.urls import path

from . import settings_views as views

urlpatterns = [
    path("campaigns/", views.CampaignListView.as_view(), name="settings-campaigns"),
    path(
        "campaigns/<int:pk>/",
        views.CampaignThresholdsView.as_view(),
        name="settings-campaign-edit",
    ),
]
