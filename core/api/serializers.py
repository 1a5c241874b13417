"""Serializers every app's API uses: strict inputs, the problem+json body (schema only:
problems.py renders it) and pages of a list."""

from __future__ import annotations

from rest_framework import serializers


class StrictInput(serializers.Serializer):
    """An input that refuses fields it does not know (a misspelt field is an error, not a
    silently ignored value)."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: [serializers.ErrorDetail("Unknown field.", code="unknown_field")]
                     for name in unknown})
        return super().to_internal_value(data)


# Problems (schema only: problems.py renders them) ------------------------------------------------

class FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(required=False, help_text="The field, dotted for nested ones "
                                                            "(`attributes.ratedCapacity`).")
    code = serializers.CharField()
    detail = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.URLField()
    code = serializers.CharField(help_text="Stable: clients may branch on it.")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = FieldErrorSerializer(many=True, required=False)



def paginated(item: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The page of a list: {count, next, previous, results: [item]}."""
    return type(f"Paginated{item.__name__}", (serializers.Serializer,), {
        "count": serializers.IntegerField(),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": item(many=True),
    })
