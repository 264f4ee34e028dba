"""Values the OpenAPI schema refuses are refused by the server too, on every endpoint: a
boolean is true or false (not 0, 1 or a number), a whole-number filter takes no fraction.
Found by the schemathesis contract test on the alert, webhook and routing-plan endpoints."""

import pytest

pytestmark = pytest.mark.django_db

ENDPOINT = {"name": "CRM", "url": "https://crm.example.com/hooks", "kind": "signed_json"}


@pytest.mark.parametrize(
    "url,param", [("/api/v1/alert-rules/", "enabled"), ("/api/v1/webhook-endpoints/", "active")]
)
def test_a_boolean_filter_takes_true_or_false_only(api_client, url, param):
    for value in ("-58800", "maybe", "2"):
        response = api_client.get(url, {param: value})
        assert response.status_code == 400, (url, value)
        assert list(response.json()["errors"]) == [param]
    for value in ("true", "false"):
        assert api_client.get(url, {param: value}).status_code == 200


def test_a_whole_number_filter_takes_no_fraction(api_client):
    response = api_client.get("/api/v1/routing-plans/", {"version": "0.5"})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["version"]
    assert api_client.get("/api/v1/routing-plans/", {"version": "2"}).status_code == 200


@pytest.mark.parametrize("value", [0, 1, "true", "yes"])
def test_a_boolean_in_a_json_body_is_true_or_false(api_client, value):
    response = api_client.post(
        "/api/v1/webhook-endpoints/", {**ENDPOINT, "active": value}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["active"]
    response = api_client.post(
        "/api/v1/webhook-endpoints/", {**ENDPOINT, "active": False}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["active"] is False
