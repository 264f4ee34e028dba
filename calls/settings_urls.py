from django.urls import path

from . import settings_views as views

urlpatterns = [
    path("imports/", views.ImportListView.as_view(), name="settings-imports"),
    path("imports/<int:pk>/", views.ImportDetailView.as_view(), name="settings-import-detail"),
]
