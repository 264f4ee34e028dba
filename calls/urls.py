from django.urls import path

from . import views

urlpatterns = [
    path("calls/", views.CallListView.as_view(), name="call-list"),
    path("calls/export.csv", views.CallExportView.as_view(), name="call-export"),
    path("calls/<int:pk>/", views.CallDetailView.as_view(), name="call-detail"),
]
