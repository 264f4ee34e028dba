"""tenancy.api.PlainFieldsCopiedMixin: a hot path's serializer copies its plain fields
shallowly; each instance still validates on its own fields, bound to itself."""

from __future__ import annotations

import pytest
from rest_framework import serializers

from ppc_dashboard.tenancy.api import PlainFieldsCopiedMixin


class Sample(PlainFieldsCopiedMixin, serializers.Serializer):
    count = serializers.IntegerField(min_value=1)
    name = serializers.CharField(max_length=5)

    def validate_name(self, value):
        return f"{value}:{self.context['tag']}"


def test_each_instance_has_its_own_fields_bound_to_it():
    first, second = Sample(data={}), Sample(data={})
    for serializer in (first, second):
        assert {field.parent for field in serializer.fields.values()} == {serializer}
    assert first.fields["count"] is not second.fields["count"]
    assert first.fields["count"] is not Sample._declared_fields["count"]
    assert Sample._declared_fields["count"].parent is None  # the declared field stays unbound


def test_instances_validate_with_their_own_data_and_context():
    good = Sample(data={"count": 2, "name": "ab"}, context={"tag": "one"})
    bad = Sample(data={"count": 0, "name": "toolong"}, context={"tag": "two"})
    assert good.is_valid() and good.validated_data == {"count": 2, "name": "ab:one"}
    assert not bad.is_valid()
    assert set(bad.errors) == {"count", "name"}
    again = Sample(data={"count": 3, "name": "c"}, context={"tag": "three"})
    assert again.is_valid() and again.validated_data["name"] == "c:three"
    # Validators were not added to on the way: one min-value check still, not three.
    assert len(Sample._declared_fields["count"].validators) == 1


@pytest.mark.parametrize(
    "field", [serializers.ListField(child=serializers.IntegerField()), Sample()]
)
def test_a_field_holding_fields_is_refused(field):
    with pytest.raises(TypeError, match="holds fields"):
        type("Nested", (PlainFieldsCopiedMixin, serializers.Serializer), {"inner": field})
