from django.urls import path

from . import settings_views as views

urlpatterns = [
    path("campaigns/", views.CampaignListView.as_view(), name="settings-campaigns"),
    path("campaigns/new/", views.CampaignCreateView.as_view(), name="settings-campaign-new"),
    path("campaigns/<int:pk>/", views.CampaignUpdateView.as_view(), name="settings-campaign-edit"),
    path(
        "campaigns/<int:pk>/delete/",
        views.CampaignDeleteView.as_view(),
        name="settings-campaign-delete",
    ),
    path("ad-spend/", views.AdSpendGridView.as_view(), name="settings-ad-spend"),
    path("ad-spend/upload/", views.AdSpendUploadView.as_view(), name="settings-ad-spend-upload"),
    path("imports/", views.ImportListView.as_view(), name="settings-imports"),
    path("imports/<int:pk>/", views.ImportDetailView.as_view(), name="settings-import-detail"),
    path(
        "imports/<int:pk>/errors.csv",
        views.ImportErrorsCsvView.as_view(),
        name="settings-import-errors-csv",
    ),
]
