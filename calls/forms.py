"""Forms of the calls app's settings pages."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from .importers import PRESETS
from .models import CallSource


def import_format_choices() -> list[tuple[str, str]]:
    return [(name, CallSource(PRESETS[name].source).label) for name in sorted(PRESETS)]


class CallImportForm(forms.Form):
    file = forms.FileField(label="CSV file")
    format = forms.ChoiceField(choices=import_format_choices, initial="native")
    create_missing = forms.BooleanField(
        required=False,
        label="Create missing campaigns, publishers and buyers",
        help_text="Otherwise a row naming an unknown one is reported as an error.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        # Page uploads share the request body limit of the pages; the API takes larger files.
        limit = settings.API_MAX_BODY_BYTES
        if upload.size > limit:
            raise ValidationError(
                f"The file is over {limit // (1024 * 1024)} MB: upload it through the API."
            )
        return upload
