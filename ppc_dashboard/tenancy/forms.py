"""Forms of the tenant's own settings pages (API keys, members, invitations) and of accepting an
invitation: they validate; the write is a ModelForm's `save()` or the service the view calls
with the cleaned data.

Role rules live here, next to the forms that apply them: only an owner grants, changes or
removes the owner role (`may_manage_role`), and an organization always keeps at least one owner.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.db.models import Model

from .models import Membership, Organization, Role, TenantModel
from .validation import NOT_IN_TENANT, unique_in_tenant_errors

# --- Tenant-owned objects (the setup screens) -----------------------------------------------


class TenantModelChoiceField(forms.ModelChoiceField):
    """A related object chosen among the tenant's own rows; another tenant's id (or a missing
    one) gets the API's message (`tenancy.validation.NOT_IN_TENANT`)."""

    def to_python(self, value: Any) -> Model | None:
        try:
            return super().to_python(value)
        except ValidationError as exc:
            if exc.code != "invalid_choice":
                raise
            raise ValidationError(
                NOT_IN_TENANT.format(pk_value=value), code="does_not_exist"
            ) from exc


class TenantModelForm(forms.ModelForm):
    """The form counterpart of `tenancy.api.TenantModelSerializer`, for the setup screens.

    Takes the tenant (`organization=`); every foreign key to a tenant-owned model offers and
    accepts that tenant's rows only, its queryset taken from the model field (as DRF's related
    fields do, so a form never imports the app that owns the related model); the fields named
    in `unique_in_tenant` are checked within the tenant with the API's message; `save()` sets
    the organization of a new object.
    """

    unique_in_tenant: tuple[str, ...] = ()

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.instance.organization = organization
        for name, field in self.fields.items():
            if not isinstance(field, forms.ModelChoiceField):
                continue
            related = self._meta.model._meta.get_field(name).related_model
            if issubclass(related, TenantModel):
                tenant_field = TenantModelChoiceField(
                    queryset=related.objects.for_organization(organization),
                    required=field.required,
                    label=field.label,
                    help_text=field.help_text,
                    empty_label=field.empty_label,
                )
                self.fields[name] = tenant_field

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        errors = unique_in_tenant_errors(
            self._meta.model,
            self.organization,
            {name: cleaned[name] for name in self.unique_in_tenant if name in cleaned},
            exclude_pk=self.instance.pk,
        )
        for name, message in errors.items():
            self.add_error(name, message)
        return cleaned

    def validate_unique(self) -> None:
        # Uniqueness is the tenant's (clean() above), with the API's message; the model's
        # constraints (which include the organization) would only repeat it in other words.
        pass


# --- API keys ------------------------------------------------------------------------------


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="What uses the key, e.g. “Ringba webhook” or “nightly import”."
    )


# Twilio's account auth token: 32 hexadecimal characters.
TWILIO_AUTH_TOKEN = re.compile(r"[0-9a-fA-F]{32}")


class TwilioAuthTokenForm(forms.Form):
    auth_token = forms.CharField(
        label="Auth token",
        max_length=64,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text="Your Twilio account's auth token (Twilio Console, Account info): 32 characters, "
        "0-9 and a-f. Twilio signs every request to your numbers' URLs with it.",
    )

    def clean_auth_token(self) -> str:
        token = self.cleaned_data["auth_token"]
        if not TWILIO_AUTH_TOKEN.fullmatch(token):
            raise forms.ValidationError(
                "A Twilio auth token is 32 characters, 0-9 and a-f: copy it again from the "
                "Twilio Console (an API key's secret does not sign webhooks)."
            )
        return token


# --- Members and roles ---------------------------------------------------------------------


def may_manage_role(role: str, acting_role: str) -> bool:
    """Whether a member of `acting_role` may grant this role, or change or remove a member
    holding it: only an owner grants, changes or removes the owner role."""
    return role != Role.OWNER or acting_role == Role.OWNER


def roles_grantable_by(acting_role: str) -> list[tuple[str, str]]:
    return [(value, label) for value, label in Role.choices if may_manage_role(value, acting_role)]


def _refuse_owner_change(role: str, acting_role: str) -> None:
    if not may_manage_role(role, acting_role):
        raise ValidationError("Only an owner can change or remove an owner.")


def _refuse_losing_last_owner(membership: Membership, role: str) -> None:
    """An organization keeps at least one owner (`role` is the membership's saved role).

    The owners' rows are locked, so two owners demoting each other at once cannot both pass;
    the views run this check and the write in one transaction.
    """
    if role != Role.OWNER:
        return
    owners = list(
        Membership.objects.select_for_update()
        .filter(organization_id=membership.organization_id, role=Role.OWNER)
        .values_list("pk", flat=True)
    )
    if owners == [membership.pk]:
        raise ValidationError(
            "This is the organization's last owner: make another member an owner first."
        )


class InvitationCreateForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)

    def __init__(self, *args: Any, organization: Organization, acting_role: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["role"].choices = roles_grantable_by(acting_role)

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        already = Membership.objects.for_organization(self.organization).filter(
            user__email__iexact=email
        )
        if already.exists():
            raise ValidationError("This person is already a member: change their role instead.")
        return email


class MembershipRoleForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["role"]

    def __init__(self, *args: Any, acting_role: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.acting_role = acting_role
        self.saved_role = self.instance.role
        self.fields["role"].choices = roles_grantable_by(acting_role)

    @property
    def locked(self) -> bool:
        """Whether the acting member may not touch this membership at all."""
        return not may_manage_role(self.saved_role, self.acting_role)

    def clean_role(self) -> str:
        role = self.cleaned_data["role"]
        _refuse_owner_change(self.saved_role, self.acting_role)
        if role != Role.OWNER:
            _refuse_losing_last_owner(self.instance, self.saved_role)
        return role


class MembershipRemoveForm(forms.Form):
    """Confirms the removal of a member; refuses owners (for non-owners) and the last owner."""

    def __init__(self, *args: Any, membership: Membership, acting_role: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.membership = membership
        self.acting_role = acting_role

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        _refuse_owner_change(self.membership.role, self.acting_role)
        _refuse_losing_last_owner(self.membership, self.membership.role)
        return cleaned


class InvitationSignupForm(forms.Form):
    """The password of the account an invited address without one gets when it accepts."""

    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", "The two passwords differ.")
        elif password1:
            # Validated against the account it will be (not too close to the email).
            future_user = get_user_model()(username=self.email, email=self.email)
            try:
                password_validation.validate_password(password1, future_user)
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned
