from django.core.management.base import BaseCommand, CommandError

from ppc_dashboard.tenancy.models import Role
from ppc_dashboard.tenancy.services import user_create_with_membership

from ._org import organization_by_slug


class Command(BaseCommand):
    help = "Create a user (or reuse one by email) and make them a member of an organization."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--org", required=True, help="Organization slug")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--password", help="Generated and printed when omitted")

    def handle(self, *args, email, org, role, password, **options):
        if "@" not in email:
            raise CommandError(f"'{email}' is not an email address.")
        organization = organization_by_slug(org)
        user, generated = user_create_with_membership(
            email=email, organization=organization, role=role, password=password
        )
        self.stdout.write(f"{user.email} is {role} of '{organization.slug}'.")
        if generated:
            self.stdout.write(f"Password: {generated}")
