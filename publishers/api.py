from rest_framework import serializers

from ppc_dashboard.tenancy.api import TenantModelSerializer, TenantModelViewSet, crud_docs

from .models import Publisher


class PublisherSerializer(TenantModelSerializer):
    class Meta:
        model = Publisher
        fields = ["id", "name", "external_id", "created_at"]
        read_only_fields = ["id", "created_at"]
        unique_in_tenant = ["name", "external_id"]

    def validate_name(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("This field may not be blank.")
        return value.strip()


@crud_docs(
    tag="publishers",
    one="publisher",
    many="publishers",
    about="Publishers (affiliates) of the organization.",
    rules="The name and the external_id are unique in the organization.",
)
class PublisherViewSet(TenantModelViewSet):
    """Publishers (affiliates) of the organization."""

    queryset = Publisher.objects.all()
    serializer_class = PublisherSerializer
    filterset_fields = ["name", "external_id"]
