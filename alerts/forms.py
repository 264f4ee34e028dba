from decimal import Decimal

from django import forms


class FollowUpUpdateForm(forms.Form):
    """A follow-up page button: the revenue (for "recovered") and a note."""

    revenue = forms.DecimalField(
        required=False, min_value=Decimal("0"), max_digits=14, decimal_places=4
    )
    note = forms.CharField(required=False, max_length=2000)
