from django.urls import path

from . import settings_views as views

urlpatterns = [
    path("webhooks/", views.WebhookListView.as_view(), name="settings-webhooks"),
    path("webhooks/new/", views.WebhookCreateView.as_view(), name="settings-webhook-new"),
    path("webhooks/<int:pk>/", views.WebhookUpdateView.as_view(), name="settings-webhook-edit"),
    path(
        "webhooks/<int:pk>/delete/",
        views.WebhookDeleteView.as_view(),
        name="settings-webhook-delete",
    ),
    path(
        "webhooks/<int:pk>/rotate-secret/",
        views.WebhookRotateView.as_view(),
        name="settings-webhook-rotate",
    ),
    path("webhooks/<int:pk>/test/", views.WebhookTestView.as_view(), name="settings-webhook-test"),
    path(
        "webhooks/deliveries/",
        views.WebhookDeliveryListView.as_view(),
        name="settings-webhook-deliveries",
    ),
    path(
        "webhooks/deliveries/<int:pk>/",
        views.WebhookDeliveryDetailView.as_view(),
        name="settings-webhook-delivery",
    ),
    path(
        "webhooks/deliveries/<int:pk>/redeliver/",
        views.WebhookRedeliverView.as_view(),
        name="settings-webhook-redeliver",
    ),
    path("alerts/", views.AlertRulesView.as_view(), name="settings-alerts"),
    path("alerts/new/", views.AlertRuleCreateView.as_view(), name="settings-alert-rule-new"),
    path("alerts/<int:pk>/", views.AlertRuleEditView.as_view(), name="settings-alert-rule-edit"),
    path(
        "alerts/<int:pk>/delete/",
        views.AlertRuleDeleteView.as_view(),
        name="settings-alert-rule-delete",
    ),
    path("follow-ups/", views.FollowUpRulesView.as_view(), name="settings-followups"),
    path("follow-ups/new/", views.FollowUpRuleCreateView.as_view(), name="settings-followup-new"),
    path(
        "follow-ups/<int:pk>/", views.FollowUpRuleEditView.as_view(), name="settings-followup-edit"
    ),
    path(
        "follow-ups/<int:pk>/delete/",
        views.FollowUpRuleDeleteView.as_view(),
        name="settings-followup-delete",
    ),
]
