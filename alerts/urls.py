from django.urls import path

from . import views

urlpatterns = [
    path("follow-ups/", views.FollowUpListView.as_view(), name="followup-list"),
    path(
        "follow-ups/<int:pk>/<str:action>/",
        views.FollowUpUpdateView.as_view(),
        name="followup-update",
    ),
]
