from django.core.management.base import BaseCommand

from ppc_dashboard.tenancy.services import api_key_create

from ._org import organization_by_slug


class Command(BaseCommand):
    help = "Create an API key for an organization and print it (it is shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="Organization slug")
        parser.add_argument("--name", required=True)

    def handle(self, *args, org, name, **options):
        organization = organization_by_slug(org)
        api_key, raw_key = api_key_create(organization=organization, name=name)
        self.stderr.write(f"API key '{api_key.name}' ({api_key.prefix}...) for '{org}':")
        self.stdout.write(raw_key)
