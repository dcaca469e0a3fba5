"""CRM and audience actions: HubSpot, Salesforce, Pipedrive, Klaviyo, Mailchimp."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import Field, model_validator

from providers.client import ProviderResponse
from workers.actions.spec import EMAIL, Action, ActionEnv, ActionInput, Declared, HttpCall

PropertyValue = str | int | float | bool | None


class HubSpotContact(ActionInput):
    """Create the contact with this email, or update it (HubSpot matches by email)."""

    email: str = Field(pattern=EMAIL)
    firstname: str | None = Field(default=None, max_length=200)
    lastname: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    properties: dict[str, PropertyValue] = Field(default_factory=dict)


def hubspot_properties(values: Mapping[str, PropertyValue]) -> dict[str, str]:
    """Property values as HubSpot's CRM API takes them: every value is a string.

    Booleans are ``"true"``/``"false"``, numbers their plain decimal text (no ``.0`` on a
    whole number), and ``None`` the empty string (which clears the property).
    """
    return {name: _hubspot_text(value) for name, value in values.items()}


def _hubspot_text(value: PropertyValue) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _hubspot_upsert(params: HubSpotContact, env: ActionEnv) -> dict[str, Any]:
    named = params.model_dump(include={"firstname", "lastname", "phone"}, exclude_none=True)
    properties = hubspot_properties({**params.properties, **named, "email": params.email})
    return {"inputs": [{"idProperty": "email", "id": params.email, "properties": properties}]}


class HubSpotDeal(ActionInput):
    """A deal, associated with a contact when ``contact_id`` is given."""

    dealname: str = Field(min_length=1, max_length=200)
    amount: float | None = Field(default=None, ge=0)
    pipeline: str = "default"
    dealstage: str = "appointmentscheduled"
    contact_id: str | None = Field(default=None, pattern=r"^[0-9]+$")


def _association(contact_id: str | None, type_id: int) -> list[dict[str, Any]]:
    if contact_id is None:
        return []
    kind = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}
    return [{"to": {"id": contact_id}, "types": [kind]}]


def _hubspot_deal(params: HubSpotDeal, env: ActionEnv) -> dict[str, Any]:
    values = params.model_dump(exclude={"contact_id"}, exclude_none=True)
    return {
        "properties": hubspot_properties(values),
        "associations": _association(params.contact_id, 3),
    }


class HubSpotNote(ActionInput):
    """A note on a contact's timeline (a call summary, a scan)."""

    contact_id: str = Field(pattern=r"^[0-9]+$")
    body: str = Field(min_length=1, max_length=65_536)
    timestamp: datetime | None = None


def _hubspot_note(params: HubSpotNote, env: ActionEnv) -> dict[str, Any]:
    when = params.timestamp or datetime.now(UTC)
    properties = {"hs_note_body": params.body, "hs_timestamp": when.isoformat()}
    return {"properties": properties, "associations": _association(params.contact_id, 202)}


class SalesforcePerson(ActionInput):
    """A Lead (company required) or Contact; ``fields`` adds custom fields (``Source__c``)."""

    last_name: str = Field(min_length=1, max_length=80)
    first_name: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, pattern=EMAIL)
    phone: str | None = Field(default=None, max_length=40)
    fields: dict[str, PropertyValue] = Field(default_factory=dict)


class SalesforceLead(SalesforcePerson):
    company: str = Field(min_length=1, max_length=255)


def _salesforce_record(params: SalesforcePerson, env: ActionEnv) -> dict[str, Any]:
    names = {"last_name": "LastName", "first_name": "FirstName", "email": "Email"}
    names |= {"phone": "Phone", "company": "Company"}
    values = params.model_dump(exclude={"fields"}, exclude_none=True)
    return {**params.fields, **{names[k]: v for k, v in values.items()}}


class PipedrivePerson(ActionInput):
    """A person with an optional email and phone."""

    name: str = Field(min_length=1, max_length=255)
    email: str | None = Field(default=None, pattern=EMAIL)
    phone: str | None = Field(default=None, max_length=40)


def _pipedrive_person(params: PipedrivePerson, env: ActionEnv) -> dict[str, Any]:
    body: dict[str, Any] = {"name": params.name}
    if params.email:
        body["email"] = [{"value": params.email, "primary": True}]
    if params.phone:
        body["phone"] = [{"value": params.phone, "primary": True}]
    return body


class KlaviyoProfile(ActionInput):
    """Create or update a profile, matched by email (or phone)."""

    email: str | None = Field(default=None, pattern=EMAIL)
    phone_number: str | None = Field(default=None, pattern=r"^\+[1-9][0-9]{6,14}$")
    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    properties: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _identified(self) -> KlaviyoProfile:
        if not (self.email or self.phone_number):
            raise ValueError("email or phone_number is required")
        return self


def _klaviyo_profile(params: KlaviyoProfile, env: ActionEnv) -> dict[str, Any]:
    attributes = params.model_dump(exclude_none=True)
    return {"data": {"type": "profile", "attributes": attributes}}


class ActiveCampaignContact(ActionInput):
    """Create or update a contact by email (``POST /contact/sync``), with custom field values.

    Follows https://developers.activecampaign.com/reference/sync-a-contacts-data.
    """

    email: str = Field(pattern=EMAIL)
    first_name: str | None = Field(default=None, max_length=255)
    last_name: str | None = Field(default=None, max_length=255)
    phone: str | None = Field(default=None, max_length=40)
    field_values: dict[str, str] = Field(default_factory=dict, max_length=100)


def _activecampaign_contact(params: ActiveCampaignContact, env: ActionEnv) -> dict[str, Any]:
    names = {"email": "email", "first_name": "firstName", "last_name": "lastName", "phone": "phone"}
    values = params.model_dump(exclude={"field_values"}, exclude_none=True)
    contact: dict[str, Any] = {names[k]: v for k, v in values.items()}
    if params.field_values:
        contact["fieldValues"] = [{"field": k, "value": v} for k, v in params.field_values.items()]
    return {"contact": contact}


class ConstantContactSignup(ActionInput):
    """Create or update a contact and add it to lists (``POST /contacts/sign_up_form``).

    Follows https://developer.constantcontact.com/api_guide/contacts_create_or_update.html.
    """

    email: str = Field(pattern=EMAIL)
    first_name: str | None = Field(default=None, max_length=50)
    last_name: str | None = Field(default=None, max_length=50)
    list_ids: list[str] = Field(min_length=1, max_length=50)


def _cc_signup(params: ConstantContactSignup, env: ActionEnv) -> dict[str, Any]:
    body: dict[str, Any] = {"email_address": params.email, "list_memberships": params.list_ids}
    names = params.model_dump(include={"first_name", "last_name"}, exclude_none=True)
    return {**body, **names}


class ZohoLead(ActionInput):
    """A lead (``Last_Name`` and ``Company`` as Zoho requires), with extra API-named fields.

    Follows https://www.zoho.com/crm/developer/docs/api/v7/insert-records.html.
    """

    last_name: str = Field(min_length=1, max_length=80)
    company: str = Field(min_length=1, max_length=200)
    first_name: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, pattern=EMAIL)
    phone: str | None = Field(default=None, max_length=30)
    fields: dict[str, PropertyValue] = Field(default_factory=dict, max_length=100)


def _zoho_lead(params: ZohoLead, env: ActionEnv) -> dict[str, Any]:
    names = {"last_name": "Last_Name", "company": "Company", "first_name": "First_Name"}
    names |= {"email": "Email", "phone": "Phone"}
    values = params.model_dump(exclude={"fields"}, exclude_none=True)
    return {"data": [{**params.fields, **{names[k]: v for k, v in values.items()}}]}


class MailchimpMember(ActionInput):
    """Add or update a list member, with merge fields and tags."""

    list_id: str = Field(pattern=r"^[0-9a-z]{6,20}$")
    email: str = Field(pattern=EMAIL)
    status_if_new: str = Field(
        default="subscribed", pattern=r"^(subscribed|pending|transactional)$"
    )
    merge_fields: dict[str, str] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list, max_length=50)


class MailchimpUpsertMember(Action):
    """Two calls: PUT the member (by subscriber hash), then activate its tags."""

    provider = "mailchimp"
    name = "upsert_member"
    input = MailchimpMember
    description = "Add or update a Mailchimp list member and tag it."

    def calls(self, params: MailchimpMember, env: ActionEnv) -> Sequence[HttpCall]:
        member = f"/lists/{params.list_id}/members/{subscriber_hash(params.email)}"
        body = {
            "email_address": params.email,
            "status_if_new": params.status_if_new,
            "merge_fields": params.merge_fields,
        }
        calls = [HttpCall("PUT", member, json=body)]
        if params.tags:
            tags = [{"name": tag, "status": "active"} for tag in params.tags]
            calls.append(HttpCall("POST", member + "/tags", json={"tags": tags}))
        return calls

    def output(self, responses: Sequence[ProviderResponse]) -> dict[str, Any]:
        member = responses[0].json()
        return {"id": member.get("id"), "email": member.get("email_address")}


def subscriber_hash(email: str) -> str:
    """Mailchimp's member id: the MD5 of the lower-cased email (an id, not security)."""
    return hashlib.md5(email.lower().encode(), usedforsecurity=False).hexdigest()


ACTIONS: list[Action] = [
    Declared(
        provider="hubspot",
        name="upsert_contact",
        input=HubSpotContact,
        path="/crm/v3/objects/contacts/batch/upsert",
        body=_hubspot_upsert,
        outputs={"id": "results.0.id", "created": "results.0.new"},
        description="Create or update a HubSpot contact by email (find-or-create).",
    ),
    Declared(
        provider="hubspot",
        name="create_deal",
        input=HubSpotDeal,
        path="/crm/v3/objects/deals",
        body=_hubspot_deal,
        outputs={"id": "id"},
        description="Create a HubSpot deal, optionally on a contact.",
    ),
    Declared(
        provider="hubspot",
        name="add_note",
        input=HubSpotNote,
        path="/crm/v3/objects/notes",
        body=_hubspot_note,
        outputs={"id": "id"},
        description="Add a note to a HubSpot contact.",
    ),
    Declared(
        provider="salesforce",
        name="create_lead",
        input=SalesforceLead,
        path="/sobjects/Lead",
        body=_salesforce_record,
        outputs={"id": "id"},
        description="Create a Salesforce lead.",
    ),
    Declared(
        provider="salesforce",
        name="create_contact",
        input=SalesforcePerson,
        path="/sobjects/Contact",
        body=_salesforce_record,
        outputs={"id": "id"},
        description="Create a Salesforce contact.",
    ),
    Declared(
        provider="pipedrive",
        name="create_person",
        input=PipedrivePerson,
        path="/persons",
        body=_pipedrive_person,
        outputs={"id": "data.id"},
        description="Create a Pipedrive person.",
    ),
    Declared(
        provider="klaviyo",
        name="upsert_profile",
        input=KlaviyoProfile,
        path="/profile-import/",
        body=_klaviyo_profile,
        outputs={"id": "data.id"},
        description="Create or update a Klaviyo profile.",
    ),
    MailchimpUpsertMember(),
    Declared(
        provider="constant_contact",
        name="sign_up_contact",
        input=ConstantContactSignup,
        path="/contacts/sign_up_form",
        body=_cc_signup,
        outputs={"id": "contact_id", "action": "action"},
        description="Create or update a Constant Contact contact on lists.",
    ),
    Declared(
        provider="zoho_crm",
        name="create_lead",
        input=ZohoLead,
        path="/Leads",
        body=_zoho_lead,
        outputs={"id": "data.0.details.id"},
        description="Create a Zoho CRM lead.",
    ),
    Declared(
        provider="activecampaign",
        name="sync_contact",
        input=ActiveCampaignContact,
        path="/contact/sync",
        body=_activecampaign_contact,
        outputs={"id": "contact.id"},
        description="Create or update an ActiveCampaign contact by email.",
    ),
]
