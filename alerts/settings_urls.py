from django.urls import path

from . import settings_views as views

urlpatterns = [
    path("alerts/", views.AlertRulesView.as_view(), name="settings-alerts"),
    path("alerts/new/", views.AlertRuleCreateView.as_view(), name="settings-alert-rule-new"),
    path("alerts/<int:pk>/", views.AlertRuleEditView.as_view(), name="settings-alert-rule-edit"),
    path(
        "alerts/<int:pk>/delete/",
        views.AlertRuleDeleteView.as_view(),
        name="settings-alert-rule-delete",
    ),
]
