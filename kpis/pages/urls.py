# Names avoid the API router's "<basename>-list" / "-detail" (campaign-list is the API's).
from django.urls import path

from . import views

urlpatterns = [
    path("", views.OverviewView.as_view(), name="home"),
    path("campaigns/", views.CampaignListView.as_view(), name="campaigns"),
    path("campaigns/<int:pk>/", views.CampaignDetailView.as_view(), name="campaign"),
    path("publishers/", views.PublisherListView.as_view(), name="publishers"),
    path("publishers/<int:pk>/", views.PublisherDetailView.as_view(), name="publisher"),
    path("geography/", views.GeographyView.as_view(), name="geography"),
    path("tags/", views.TagsView.as_view(), name="tags"),
]
