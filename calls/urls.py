from django.urls import path

from . import views

urlpatterns = [
    path("", views.CallListView.as_view(), name="home"),
    path("calls/", views.CallListView.as_view(), name="call-list"),
    path("calls/<int:pk>/", views.CallDetailView.as_view(), name="call-detail"),
]
