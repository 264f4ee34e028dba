from django.core.management.base import CommandError

from ppc_dashboard.tenancy.models import Organization


def organization_by_slug(slug: str) -> Organization:
    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        raise CommandError(f"No organization with slug '{slug}'. Create it with create_org.")
    return organization
