"""The publisher setup screen: name and external id, unique within the tenant as the API
checks them."""

from __future__ import annotations

from publishers.models import Publisher
from tests.factories import PublisherFactory


def test_a_manager_creates_and_renames_a_publisher(member_client, org):
    response = member_client.post(
        "/settings/publishers/new/", {"name": " Star Media ", "external_id": "sub-7"}
    )
    assert response.status_code == 302
    publisher = Publisher.objects.get(organization=org)
    assert (publisher.name, publisher.external_id) == ("Star Media", "sub-7")
    response = member_client.post(
        f"/settings/publishers/{publisher.pk}/", {"name": "Star", "external_id": "sub-7"}
    )
    assert response.status_code == 302
    publisher.refresh_from_db()
    assert publisher.name == "Star"


def test_publishers_without_external_id_do_not_clash(member_client, org):
    PublisherFactory(organization=org, name="Star", external_id="")
    response = member_client.post("/settings/publishers/new/", {"name": "Moon", "external_id": ""})
    assert response.status_code == 302
    assert Publisher.objects.filter(organization=org).count() == 2


def test_another_tenants_names_are_free(member_client, org, other_org):
    PublisherFactory(organization=other_org, name="Star", external_id="sub-7")
    response = member_client.post(
        "/settings/publishers/new/", {"name": "Star", "external_id": "sub-7"}
    )
    assert response.status_code == 302


def test_the_list_links_each_publisher_to_its_screen_and_its_kpis(member_client, org, other_org):
    mine = PublisherFactory(organization=org, name="Star")
    PublisherFactory(organization=other_org, name="Rival")
    page = member_client.get("/settings/publishers/").content.decode()
    assert f'href="/settings/publishers/{mine.pk}/"' in page
    assert f'href="/publishers/{mine.pk}/"' in page
    assert "Rival" not in page
