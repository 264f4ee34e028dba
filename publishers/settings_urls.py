from django.urls import path

from . import settings_views as views

urlpatterns = [
    path("publishers/", views.PublisherListView.as_view(), name="settings-publishers"),
    path("publishers/new/", views.PublisherCreateView.as_view(), name="settings-publisher-new"),
    path(
        "publishers/<int:pk>/", views.PublisherUpdateView.as_view(), name="settings-publisher-edit"
    ),
    path(
        "publishers/<int:pk>/delete/",
        views.PublisherDeleteView.as_view(),
        name="settings-publisher-delete",
    ),
]
