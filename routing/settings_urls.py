from django.urls import path

from . import settings_views as views

urlpatterns = [
    path("buyers/", views.BuyerListView.as_view(), name="settings-buyers"),
    path("buyers/new/", views.BuyerCreateView.as_view(), name="settings-buyer-new"),
    path("buyers/<int:pk>/", views.BuyerUpdateView.as_view(), name="settings-buyer-edit"),
    path("buyers/<int:pk>/delete/", views.BuyerDeleteView.as_view(), name="settings-buyer-delete"),
    path(
        "tracking-numbers/",
        views.TrackingNumberListView.as_view(),
        name="settings-tracking-numbers",
    ),
    path(
        "tracking-numbers/<int:pk>/",
        views.TrackingNumberUpdateView.as_view(),
        name="settings-tracking-number-edit",
    ),
    path(
        "tracking-numbers/<int:pk>/delete/",
        views.TrackingNumberDeleteView.as_view(),
        name="settings-tracking-number-delete",
    ),
    # A campaign's routing plan: under the campaign's settings, kept by the routing app.
    path(
        "campaigns/<int:pk>/routing/",
        views.RoutingPlanEditView.as_view(),
        name="settings-campaign-routing",
    ),
    path(
        "campaigns/<int:pk>/routing/v<int:version>/",
        views.RoutingPlanVersionView.as_view(),
        name="settings-campaign-routing-version",
    ),
]
