from django.urls import path

from . import settings_views as views

urlpatterns = [
    path("", views.SettingsIndexView.as_view(), name="settings"),
    path("api-keys/", views.ApiKeyListView.as_view(), name="settings-api-keys"),
    path(
        "api-keys/<int:pk>/revoke/",
        views.ApiKeyRevokeView.as_view(),
        name="settings-api-key-revoke",
    ),
    path("twilio/", views.TwilioSettingsView.as_view(), name="settings-twilio"),
    path("members/", views.MemberListView.as_view(), name="settings-members"),
    path("members/<int:pk>/", views.MemberRoleView.as_view(), name="settings-member-edit"),
    path(
        "members/invitations/<int:pk>/revoke/",
        views.InvitationRevokeView.as_view(),
        name="settings-invitation-revoke",
    ),
    path(
        "members/<int:pk>/remove/",
        views.MemberRemoveView.as_view(),
        name="settings-member-remove",
    ),
]
