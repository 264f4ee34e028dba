from django.urls import include, path
from rest_framework.routers import DefaultRouter

from alerts.api import (
    AlertIncidentViewSet,
    AlertRuleViewSet,
    FollowUpRuleViewSet,
    FollowUpViewSet,
    WebhookDeliveryViewSet,
    WebhookEndpointViewSet,
)
from calls.api.route import RouteViewSet
from calls.api.views import AdSpendViewSet, CallImportViewSet, CallViewSet, CampaignViewSet
from kpis.api import (
    CoverageViewSet,
    KpiViewSet,
    ReallocationViewSet,
    ThresholdSuggestionsViewSet,
    VerdictsViewSet,
    WhatIfViewSet,
)
from publishers.api import PublisherViewSet
from routing.api import BuyerViewSet, RoutingPlanViewSet, TrackingNumberViewSet


class OptionalSlashRouter(DefaultRouter):
    """Paths work with and without the trailing slash (integrators post to `.../conversion`)."""

    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"


router = OptionalSlashRouter()
# Matched in the order registered: the route decision, asked while a call rings, first.
router.register("route", RouteViewSet, basename="route")
router.register("calls", CallViewSet, basename="call")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("publishers", PublisherViewSet, basename="publisher")
router.register("buyers", BuyerViewSet, basename="buyer")
router.register("tracking-numbers", TrackingNumberViewSet, basename="trackingnumber")
router.register("routing-plans", RoutingPlanViewSet, basename="routingplan")
router.register("ad-spend", AdSpendViewSet, basename="adspend")
router.register("imports", CallImportViewSet, basename="callimport")
router.register("kpis", KpiViewSet, basename="kpis")
router.register("verdicts", VerdictsViewSet, basename="verdicts")
router.register(
    "qualifying-thresholds", ThresholdSuggestionsViewSet, basename="qualifying-thresholds"
)
router.register("reallocation", ReallocationViewSet, basename="reallocation")
router.register("alerts", AlertIncidentViewSet, basename="alert")
router.register("alert-rules", AlertRuleViewSet, basename="alertrule")
router.register("what-if", WhatIfViewSet, basename="what-if")
router.register("coverage", CoverageViewSet, basename="coverage")
router.register("webhook-endpoints", WebhookEndpointViewSet, basename="webhookendpoint")
router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="webhookdelivery")
router.register("follow-ups", FollowUpViewSet, basename="followup")
router.register("follow-up-rules", FollowUpRuleViewSet, basename="followuprule")

# Namespaced, so API names ("api:call-list") never shadow the pages' ("call-list").
app_name = "api"
urlpatterns = [path("", include(router.urls))]
