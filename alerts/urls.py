from django.urls import path

from . import views

urlpatterns = [
    path("", views.AlertListView.as_view(), name="alerts"),
    path("<int:pk>/acknowledge/", views.AlertAcknowledgeView.as_view(), name="alert-acknowledge"),
]
