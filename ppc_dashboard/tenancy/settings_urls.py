from django.urls import path

from . import settings_views as views

urlpatterns = [
    path("", views.SettingsIndexView.as_view(), name="settings"),
    path("campaigns/", views.CampaignListView.as_view(), name="settings-campaigns"),
    path(
        "campaigns/<int:pk>/",
        views.CampaignThresholdsView.as_view(),
        name="settings-campaign-edit",
    ),
    path("api-keys/", views.ApiKeyListView.as_view(), name="settings-api-keys"),
    path(
        "api-keys/<int:pk>/revoke/",
        views.ApiKeyRevokeView.as_view(),
        name="settings-api-key-revoke",
    ),
    path("members/", views.MemberListView.as_view(), name="settings-members"),
    path("members/<int:pk>/", views.MemberRoleView.as_view(), name="settings-member-edit"),
    path(
        "members/<int:pk>/remove/",
        views.MemberRemoveView.as_view(),
        name="settings-member-remove",
    ),
    path("reports/", views.ReportSubscriptionView.as_view(), name="settings-reports"),
    path(
        "reports/unsubscribe/",
        views.ReportUnsubscribeView.as_view(),
        name="settings-report-unsubscribe",
    ),
    path("imports/", views.ImportListView.as_view(), name="settings-imports"),
    path("imports/<int:pk>/", views.ImportDetailView.as_view(), name="settings-import-detail"),
]
