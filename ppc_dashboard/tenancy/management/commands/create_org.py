from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ppc_dashboard.tenancy.services import organization_create


class Command(BaseCommand):
    help = "Create an organization (tenant)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--timezone", default="America/New_York")
        parser.add_argument("--currency", default="USD")
        parser.add_argument(
            "--country",
            default="US",
            help="ISO 3166 code: phone numbers without a country code are read in it",
        )

    def handle(self, *args, slug, name, timezone, currency, country, **options):
        try:
            organization = organization_create(
                slug=slug, name=name, timezone=timezone, currency=currency, country=country
            )
        except ValidationError as exc:
            message = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            raise CommandError(message) from exc
        self.stdout.write(
            f"Created organization '{organization.slug}' ({organization.name}, "
            f"{organization.timezone}, {organization.currency}, {organization.country}).\n"
            f"Twilio status callback path: /hooks/twilio/{organization.webhook_token}/"
        )
