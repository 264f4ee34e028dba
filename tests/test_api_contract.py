"""The API keeps its OpenAPI contract: schemathesis, every check, against a live server.

The CLI runs against pytest-django's live server (a real HTTP server on the test database)
with a fixed seed and a bounded number of examples per operation, so the run is the same on
every machine and takes a minute or two. Its one setting is in tests/schemathesis.toml.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from ppc_dashboard.tenancy.services import api_key_create
from ppc_dashboard.tenancy.throttling import ApiKeyRateThrottle, CredentialFailureThrottle
from tests.factories import (
    AdSpendFactory,
    BuyerFactory,
    CallFactory,
    CampaignFactory,
    OrganizationFactory,
    PublisherFactory,
    TrackingNumberFactory,
)

CONFIG = Path(__file__).with_name("schemathesis.toml")
SEED = 1
EXAMPLES_PER_OPERATION = 10


@pytest.fixture
def seeded_key(transactional_db, monkeypatch) -> str:
    """An organization with a little of everything, another tenant beside it, and a key."""
    # Thousands of requests from one address, some with no key or a wrong one on purpose
    # (the ignored_auth check): the limits would soon answer everything with 429.
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "1000000/min"})
    monkeypatch.setattr(
        CredentialFailureThrottle, "THROTTLE_RATES", {"credential_failures": "1000000/min"}
    )
    organization = OrganizationFactory(slug="contract", name="Contract Org")
    campaigns = [CampaignFactory(organization=organization) for _ in range(3)]
    publishers = [PublisherFactory(organization=organization) for _ in range(2)]
    buyers = [BuyerFactory(organization=organization) for _ in range(2)]
    for campaign, publisher in zip(campaigns, publishers, strict=False):
        TrackingNumberFactory(organization=organization, campaign=campaign, publisher=publisher)
    for campaign in campaigns:
        AdSpendFactory(organization=organization, campaign=campaign)
    for n in range(8):
        CallFactory(
            organization=organization,
            campaign=campaigns[n % 3],
            publisher=publishers[n % 2],
            buyer=buyers[n % 2],
        )
    CallFactory(organization=OrganizationFactory())  # another tenant's call
    _, raw_key = api_key_create(organization=organization, name="contract")
    return raw_key


def test_the_api_keeps_its_openapi_contract_under_every_check(live_server, seeded_key, tmp_path):
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(CONFIG),
        "--no-color",
        "run",
        f"{live_server.url}/api/schema/?format=json",
        "--url",
        live_server.url,
        "--header",
        f"X-Api-Key: {seeded_key}",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing",
        "--seed",
        str(SEED),
        "--max-examples",
        str(EXAMPLES_PER_OPERATION),
        "--workers",
        "1",
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    report = run.stdout + run.stderr
    assert run.returncode == 0, report[-20_000:]
    tested = re.search(r"Tested: (\d+)", report)
    assert tested and int(tested.group(1)) >= 40, report[-5_000:]  # every operation ran
