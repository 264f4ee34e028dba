from django.urls import path

from . import views

urlpatterns = [
    path("alerts/", views.AlertListView.as_view(), name="alerts"),
    path(
        "alerts/<int:pk>/acknowledge/",
        views.AlertAcknowledgeView.as_view(),
        name="alert-acknowledge",
    ),
    path("follow-ups/", views.FollowUpListView.as_view(), name="followup-list"),
    path(
        "follow-ups/<int:pk>/<str:action>/",
        views.FollowUpUpdateView.as_view(),
        name="followup-update",
    ),
]
