"""Spreadsheet, database and scheduling actions: Google Sheets, Airtable, Google Calendar,
Calendly, Cal.com."""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, Field, model_validator

from workers.actions.spec import EMAIL, Action, ActionEnv, ActionInput, Declared

Cell = str | int | float | bool | None


class SheetRow(ActionInput):
    """One row appended after the last row of a range (``Sheet1`` or ``Leads!A:F``)."""

    spreadsheet_id: str = Field(pattern=r"^[A-Za-z0-9_-]{10,100}$")
    range: str = Field(default="Sheet1", min_length=1, max_length=100, pattern=r"^[^/:]+$")
    values: list[Cell] = Field(min_length=1, max_length=1_000)


def _sheet_body(params: SheetRow, env: ActionEnv) -> dict[str, Any]:
    return {"values": [params.values]}


class AirtableRecord(ActionInput):
    """A record in a table of the connection's base (``typecast`` creates select options)."""

    table: str = Field(min_length=1, max_length=100)
    fields: dict[str, Any] = Field(min_length=1)
    typecast: bool = False


class CalendarEvent(ActionInput):
    """An event with a start and an end (timezone-aware) and optional attendees."""

    calendar_id: str = Field(default="primary", min_length=1, max_length=200)
    summary: str = Field(min_length=1, max_length=1_000)
    description: str | None = Field(default=None, max_length=8_000)
    start: AwareDatetime
    end: AwareDatetime
    attendees: list[str] = Field(default_factory=list, max_length=100)
    location: str | None = Field(default=None, max_length=1_000)

    @model_validator(mode="after")
    def _ordered(self) -> CalendarEvent:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


def _calendar_event(params: CalendarEvent, env: ActionEnv) -> dict[str, Any]:
    body: dict[str, Any] = {
        "summary": params.summary,
        "start": {"dateTime": params.start.isoformat()},
        "end": {"dateTime": params.end.isoformat()},
        "attendees": [{"email": email} for email in params.attendees],
    }
    if params.description:
        body["description"] = params.description
    if params.location:
        body["location"] = params.location
    return body


class SchedulingLink(ActionInput):
    """A single-use (by default) booking link for a Calendly event type."""

    event_type: str = Field(pattern=r"^https://api\.calendly\.com/event_types/[A-Za-z0-9-]+$")
    max_event_count: int = Field(default=1, ge=1, le=1_000)


def _scheduling_link(params: SchedulingLink, env: ActionEnv) -> dict[str, Any]:
    owner = {"owner": params.event_type, "owner_type": "EventType"}
    return {"max_event_count": params.max_event_count, **owner}


class Booking(ActionInput):
    """A Cal.com booking of an event type for one attendee."""

    event_type_id: int = Field(ge=1)
    start: AwareDatetime
    attendee_name: str = Field(min_length=1, max_length=200)
    attendee_email: str = Field(pattern=EMAIL)
    time_zone: str = Field(default="UTC", max_length=64)
    notes: str | None = Field(default=None, max_length=5_000)


def _booking(params: Booking, env: ActionEnv) -> dict[str, Any]:
    attendee = {
        "name": params.attendee_name,
        "email": params.attendee_email,
        "timeZone": params.time_zone,
    }
    body: dict[str, Any] = {
        "start": params.start.isoformat(),
        "eventTypeId": params.event_type_id,
        "attendee": attendee,
    }
    if params.notes:
        body["bookingFieldsResponses"] = {"notes": params.notes}
    return body


ACTIONS: list[Action] = [
    Declared(
        provider="google_sheets",
        name="append_row",
        input=SheetRow,
        path="/spreadsheets/{spreadsheet_id}/values/{range}:append",
        params={"valueInputOption": "USER_ENTERED", "insertDataOption": "INSERT_ROWS"},
        body=_sheet_body,
        outputs={"updated_range": "updates.updatedRange"},
        description="Append a row to a Google Sheet.",
    ),
    Declared(
        provider="airtable",
        name="create_record",
        input=AirtableRecord,
        path="/{base_id}/{table}",
        outputs={"id": "id"},
        description="Create a record in an Airtable table of the connection's base.",
    ),
    Declared(
        provider="google_calendar",
        name="create_event",
        input=CalendarEvent,
        path="/calendars/{calendar_id}/events",
        body=_calendar_event,
        outputs={"id": "id", "html_link": "htmlLink"},
        description="Create a Google Calendar event.",
    ),
    Declared(
        provider="calendly",
        name="create_scheduling_link",
        input=SchedulingLink,
        path="/scheduling_links",
        body=_scheduling_link,
        outputs={"booking_url": "resource.booking_url"},
        description="Create a Calendly single-use scheduling link.",
    ),
    Declared(
        provider="cal_com",
        name="create_booking",
        input=Booking,
        path="/bookings",
        body=_booking,
        outputs={"id": "data.id", "uid": "data.uid"},
        description="Book a Cal.com event type for an attendee.",
    ),
]
