"""Forms of the routing setup screens: buyers (hours of operation as a weekly grid, routing
settings; the grid, `WeeklyHoursGridMixin`, also edits follow-up rules' fallback hours) and
tracking numbers (one, or many pasted at once). Their rules are the API's: the
same phone number rule (`phone_number_in_tenant`), the same business hours rule
(`business_hours.validate_business_hours`), the model's validators for caps, ring timeout and
geo lists (`validate_geo_codes`, run by the model's `full_clean` as the serializer runs them),
the same uniqueness within the tenant.

The campaign a tracking number belongs to is the calls app's model, which routing may not
import: `TenantModelForm` takes its queryset from the model field, as DRF's related fields do.
"""

from __future__ import annotations

import re
import zoneinfo
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError

from ppc_dashboard.tenancy.forms import TenantModelChoiceField, TenantModelForm

from .business_hours import (
    WEEKDAYS,
    BusinessHoursError,
    GridWindow,
    grid_from_hours,
    hours_from_grid,
    validate_business_hours,
)
from .models import Buyer, TrackingNumber, geo_codes_normalized, phone_number_in_tenant
from .services import (
    PLAN_TARGETS_MAX,
    TIER_MAX,
    TIER_MIN,
    TRACKING_NUMBER_PASTE_MAX_LINES,
    WEIGHT_MAX,
    WEIGHT_MIN,
    PlanTargetInput,
)

DAY_NAMES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
# Windows per day the grid offers at least; hours stored with more (through the API) get as
# many columns as their busiest day needs, so saving the grid never drops one.
GRID_WINDOWS = 2


def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%H:%M", **kwargs)


class GeoCodesField(forms.CharField):
    """A geo allow/deny list typed as text: codes separated by commas or spaces, "US-CA, CA".

    Only splits the text: the list is stored as the API stores it (`geo_codes_normalized`),
    and checked by the model's rules and messages (`validate_geo_codes`, and `Buyer.clean`:
    never both allowed and denied)."""

    def __init__(self, **kwargs: Any) -> None:
        # The model's JSONField hands its form field the JSON codec; text needs none.
        kwargs.pop("encoder", None)
        kwargs.pop("decoder", None)
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 4000)
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return ", ".join(str(code) for code in value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value)
        codes = geo_codes_normalized([code for code in re.split(r"[\s,;]+", text) if code])
        return cast(list[str], codes)

    def has_changed(self, initial: Any, data: Any) -> bool:
        return self.to_python(self.prepare_value(initial) or "") != self.to_python(data)


class WeeklyHoursGridMixin:
    """Weekly hours edited as a grid, for a form: either "around the clock" (stored as `{}`,
    as the API takes it) or a row per weekday, each with open/close times for `windows`
    windows; a day with no window filled is closed. Checked by the API's rule
    (`validate_business_hours`, its wording), day by day so each message stands on its row.

    A buyer's hours of operation and a follow-up rule's fallback hours are edited this way;
    the form calls `hours_grid_add` in `__init__` and `hours_grid_cleaned` in `clean`, and its
    template includes settings/_hours_grid.html.
    """

    ALWAYS_OPEN = "always"
    WEEKLY = "weekly"

    fields: dict[str, forms.Field]
    initial: dict[str, Any]

    def hours_grid_add(self, stored: dict | None, *, label: str, always_label: str) -> None:
        """Add the mode and the grid's fields; `stored` is None for a new object."""
        self.fields["hours_mode"] = forms.ChoiceField(
            label=label,
            choices=[(self.ALWAYS_OPEN, always_label), (self.WEEKLY, "These weekly hours")],
            widget=forms.RadioSelect,
            initial=self.WEEKLY,
        )
        grid = grid_from_hours(stored or {})
        self.windows = max(GRID_WINDOWS, *(len(windows) for windows in grid.values()))
        if stored is not None:
            self.initial.setdefault("hours_mode", self.WEEKLY if stored else self.ALWAYS_OPEN)
        for day in WEEKDAYS:
            for number in range(1, self.windows + 1):
                stored_window = grid[day][number - 1] if number <= len(grid[day]) else ("", "")
                for end, end_label, value in (
                    ("open", "opens", stored_window[0]),
                    ("close", "closes", stored_window[1]),
                ):
                    name = self.grid_field_name(day, number, end)
                    self.fields[name] = forms.TimeField(
                        label=f"{DAY_NAMES[day]}, window {number} {end_label}",
                        required=False,
                        widget=TimeInput(),
                    )
                    self.initial.setdefault(name, value or None)

    @staticmethod
    def grid_field_name(day: str, number: int, end: str) -> str:
        return f"hours_{day}_{number}_{end}"

    def grid_rows(self) -> list[dict[str, Any]]:
        """The grid as the template draws it: a row per weekday, its windows' bound fields."""
        return [
            {
                "day": DAY_NAMES[day],
                "windows": [
                    (
                        self[self.grid_field_name(day, n, "open")],
                        self[self.grid_field_name(day, n, "close")],
                    )
                    for n in range(1, self.windows + 1)
                ],
            }
            for day in WEEKDAYS
        ]

    def hours_grid_cleaned(self, cleaned: dict[str, Any]) -> dict[str, list[list[str]]]:
        """The hours the grid holds, as stored; a bad day's message goes on its row."""
        if cleaned.get("hours_mode") == self.ALWAYS_OPEN:
            return {}
        grid: dict[str, list[GridWindow]] = {
            day: [
                (
                    cleaned.get(self.grid_field_name(day, n, "open")),
                    cleaned.get(self.grid_field_name(day, n, "close")),
                )
                for n in range(1, self.windows + 1)
            ]
            for day in WEEKDAYS
        }
        hours: dict[str, list[list[str]]] = {}
        for day in WEEKDAYS:
            try:
                hours[day] = hours_from_grid({day: grid[day]})[day]
                validate_business_hours({day: hours[day]})
            except BusinessHoursError as exc:
                self.add_error(self.grid_field_name(day, 1, "open"), str(exc))
        return hours


class BuyerForm(WeeklyHoursGridMixin, TenantModelForm):
    """A buyer: name, phone line, time zone, and its hours of operation (the weekly grid)."""

    unique_in_tenant = ("name",)

    # The routing settings, drawn in a fieldset of their own (`routing_fields`).
    ROUTING_FIELDS = (
        "active",
        "ring_timeout_seconds",
        "concurrency_cap",
        "hourly_cap",
        "daily_cap",
        "monthly_cap",
        "geo_allow",
        "geo_deny",
    )

    class Meta:
        model = Buyer
        fields = [
            "name",
            "phone_number",
            "timezone",
            "active",
            "ring_timeout_seconds",
            "concurrency_cap",
            "hourly_cap",
            "daily_cap",
            "monthly_cap",
            "geo_allow",
            "geo_deny",
        ]
        field_classes = {"geo_allow": GeoCodesField, "geo_deny": GeoCodesField}
        labels = {
            "phone_number": "Phone number",
            "timezone": "Time zone",
            "active": "Active: routing sends calls to this buyer",
            "ring_timeout_seconds": "Ring timeout (seconds)",
            "concurrency_cap": "Concurrency cap",
            "hourly_cap": "Hourly cap",
            "daily_cap": "Daily cap",
            "monthly_cap": "Monthly cap",
            "geo_allow": "Only callers from",
            "geo_deny": "Never callers from",
        }
        help_texts = {
            "phone_number": "Optional. Where calls are sent; any usual formatting.",
            "timezone": "The hours below are on this clock.",
            "ring_timeout_seconds": "5 to 120. Then the call fails over to the next target.",
            "concurrency_cap": "Calls in progress at once. Empty: no limit.",
            "hourly_cap": "Calls sent in the buyer's current hour. Empty: no limit.",
            "daily_cap": "Calls sent in the buyer's current day. Empty: no limit.",
            "monthly_cap": "Calls sent in the buyer's current month. Empty: no limit.",
            "geo_allow": "Country (US) or state/region (US-CA) codes, separated by commas or "
            "spaces. Empty: every caller; a caller of unknown origin is refused when set.",
            "geo_deny": "Codes as above. Callers from these are never sent here.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["timezone"] = forms.ChoiceField(
            label="Time zone",
            choices=timezone_choices,
            help_text=self.fields["timezone"].help_text,
        )
        if self.instance.pk is None:
            self.initial.setdefault("timezone", self.organization.timezone)
        # Left empty, the ring timeout is the model's default, as when the API omits it.
        self.fields["ring_timeout_seconds"].required = False
        self.hours_grid_add(
            self.instance.business_hours if self.instance.pk else None,
            label="Hours of operation",
            always_label="Open around the clock",
        )

    def routing_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.ROUTING_FIELDS]

    def clean_ring_timeout_seconds(self) -> int:
        value = self.cleaned_data["ring_timeout_seconds"]
        return Buyer._meta.get_field("ring_timeout_seconds").default if value is None else value

    def clean_phone_number(self) -> str:
        value = self.cleaned_data["phone_number"]
        return phone_number_in_tenant(value, self.organization) if value else value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self.instance.business_hours = self.hours_grid_cleaned(cleaned)
        return cleaned


class TrackingNumberForm(TenantModelForm):
    """One tracking number: its number (normalized as the API does), campaign, publisher."""

    unique_in_tenant = ("number",)

    class Meta:
        model = TrackingNumber
        fields = ["number", "campaign", "publisher"]
        help_texts = {"publisher": "Optional."}

    def clean_number(self) -> str:
        return phone_number_in_tenant(self.cleaned_data["number"], self.organization)


class TrackingNumberPasteForm(forms.Form):
    """Numbers pasted one per line, all for one campaign and optionally one publisher."""

    numbers = forms.CharField(
        label="Numbers, one per line",
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        help_text=f"Any usual formatting: +1 888 555 0100, (888) 555-0100, 888.555.0100. "
        f"Up to {TRACKING_NUMBER_PASTE_MAX_LINES} lines.",
    )

    def __init__(self, *args: Any, organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_field = TrackingNumber._meta.get_field
        for name, required in (("campaign", True), ("publisher", False)):
            related = model_field(name).related_model
            self.fields[name] = TenantModelChoiceField(
                queryset=related.objects.for_organization(organization).order_by("name"),
                required=required,
                empty_label=None if required else "No publisher",
                help_text="" if required else "Optional.",
            )
        self.order_fields(["numbers", "campaign", "publisher"])

    def clean_numbers(self) -> str:
        text = self.cleaned_data["numbers"]
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) > TRACKING_NUMBER_PASTE_MAX_LINES:
            raise ValidationError(
                f"{len(lines)} lines: paste at most {TRACKING_NUMBER_PASTE_MAX_LINES} at a time."
            )
        return text


# --- Routing plans -------------------------------------------------------------------------


class BuyerChoiceField(TenantModelChoiceField):
    def label_from_instance(self, obj: Buyer) -> str:
        if not obj.active:
            return f"{obj.name} (inactive)"
        if not obj.phone_number:
            return f"{obj.name} (no phone number)"
        return obj.name


class PlanTargetForm(forms.Form):
    """A row of the plan editor: a buyer, its tier and its weight within the tier.

    Bounds are `routing_plan_save`'s (the API's rule and messages); the inputs only carry
    them as hints. The table's help text explains them, so the fields have none."""

    buyer = BuyerChoiceField(queryset=Buyer.objects.none(), empty_label="Choose a buyer")
    tier = forms.IntegerField(
        initial=1,
        widget=forms.NumberInput(attrs={"min": TIER_MIN, "max": TIER_MAX, "class": "plan-number"}),
    )
    weight = forms.IntegerField(
        initial=1,
        widget=forms.NumberInput(
            attrs={"min": WEIGHT_MIN, "max": WEIGHT_MAX, "class": "plan-number"}
        ),
    )

    def __init__(self, *args: Any, organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["buyer"].queryset = Buyer.objects.for_organization(organization).order_by(
            "name"
        )

    def target_input(self) -> PlanTargetInput:
        return PlanTargetInput(
            buyer_id=self.cleaned_data["buyer"].pk,
            tier=self.cleaned_data["tier"],
            weight=self.cleaned_data["weight"],
        )


class BasePlanTargetFormSet(forms.BaseFormSet):
    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        form.fields["DELETE"].label = "Remove"

    def kept_forms(self) -> list[PlanTargetForm]:
        """The rows to save, in the order shown: filled in and not marked for removal."""
        return [
            form
            for form in self.forms
            # A blank extra row is no row; the plan's own rows count even when unchanged.
            if form.has_changed() or not form.empty_permitted
            if not self._should_delete_form(form)
        ]


PlanTargetFormSet = forms.formset_factory(
    PlanTargetForm,
    formset=BasePlanTargetFormSet,
    extra=1,
    can_delete=True,
    max_num=PLAN_TARGETS_MAX,
    validate_max=True,
)


class RoutingPlanForm(forms.Form):
    """What a plan version holds besides its rows."""

    repeat_to_first_buyer = forms.BooleanField(
        required=False,
        initial=True,
        label="Repeat callers go back to the buyer of their first call",
        help_text="Within the campaign's duplicate window, when that buyer can take the call.",
    )
    note = forms.CharField(
        required=False,
        label="Note",
        help_text="What changed and why, for the version history.",
        strip=True,
    )

    def add_save_errors(self, formset: BasePlanTargetFormSet, errors: dict[str, list[str]]):
        """Put `routing_plan_save`'s errors on the row and field they name ("targets[2].tier"
        is the third kept row's tier); the rest are the plan's own."""
        kept = formset.kept_forms()
        for key, messages in errors.items():
            match = re.fullmatch(r"targets\[(\d+)\]\.(buyer|tier|weight)", key)
            if match and int(match.group(1)) < len(kept):
                kept[int(match.group(1))].add_error(match.group(2), messages)
            elif key == "note":
                self.add_error("note", messages)
            else:
                self.add_error(None, messages)
