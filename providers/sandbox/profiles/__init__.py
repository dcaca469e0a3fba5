"""The sandboxed providers, each in its real conventions."""

from __future__ import annotations

from providers.sandbox.profile import Profile
from providers.sandbox.profiles.commerce import QuickBooks, Shopify, Stripe
from providers.sandbox.profiles.crm import HubSpot, Klaviyo, Salesforce
from providers.sandbox.profiles.generic import Generic
from providers.sandbox.profiles.lists import Airtable, Mailchimp, Pipedrive, Square
from providers.sandbox.profiles.messaging import FacebookMessenger, Slack, Twilio
from providers.sandbox.profiles.outbound import (
    ActiveCampaign,
    CalCom,
    CustomWebhook,
    Discord,
    GoogleSheets,
    Mailgun,
    Make,
    N8n,
    OpenAI,
    SendGrid,
    Telegram,
    Zapier,
)
from providers.sandbox.profiles.scheduling import Calendly, GoogleCalendar
from providers.sandbox.profiles.social import ConstantContact, Facebook, Twitter, ZohoCrm


def default_profiles() -> list[Profile]:
    """One fresh instance of every sandboxed provider."""
    return [
        HubSpot(),
        Salesforce(),
        Klaviyo(),
        Shopify(),
        Stripe(),
        QuickBooks(),
        Slack(),
        Twilio(),
        FacebookMessenger(),
        OpenAI(),
        Mailgun(),
        ActiveCampaign(),
        Zapier(),
        Twitter(),
        Facebook(),
        ConstantContact(),
        ZohoCrm(),
        Make(),
        N8n(),
        GoogleCalendar(),
        Calendly(),
        Generic(),
        Airtable(),
        Square(),
        Mailchimp(),
        Pipedrive(),
        *_outbound(),
    ]


def _outbound() -> list[Profile]:
    """Providers faked for their write endpoints (the actions of issue #9)."""
    return [
        SendGrid(),
        Discord(),
        CalCom(),
        Telegram(),
        CustomWebhook(),
        GoogleSheets(),
    ]
