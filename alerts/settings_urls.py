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
]
