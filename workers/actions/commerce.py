"""Payments and commerce actions: Stripe (incl. the Connect platform fee), Shopify and
QuickBooks sales receipts.

Stripe honours ``Idempotency-Key``: every Stripe call carries ours, so a retried call
that already succeeded at Stripe is answered from Stripe's record instead of charging twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import Field

from providers.client import ProviderResponse
from workers.actions.spec import EMAIL, Action, ActionEnv, ActionInput, Declared, HttpCall

CURRENCY = r"^[a-z]{3}$"
Metadata = dict[str, str]


class StripeCustomer(ActionInput):
    """A customer (on the connected account when the connection names one)."""

    email: str | None = Field(default=None, pattern=EMAIL)
    name: str | None = Field(default=None, max_length=256)
    phone: str | None = Field(default=None, max_length=20)
    description: str | None = Field(default=None, max_length=350)
    metadata: Metadata = Field(default_factory=dict, max_length=50)


class PaymentIntentInput(ActionInput):
    """A payment intent in the smallest currency unit; the platform fee is added for you."""

    amount: int = Field(ge=50, le=99_999_999)
    currency: str = Field(default="usd", pattern=CURRENCY)
    customer: str | None = Field(default=None, pattern=r"^cus_[A-Za-z0-9_]+$")
    description: str | None = Field(default=None, max_length=1_000)
    metadata: Metadata = Field(default_factory=dict, max_length=50)
    platform_fee: bool = Field(
        default=True, description="Take the configured Connect application fee."
    )


def application_fee(amount: int, percent: float) -> int:
    """The platform's cut in the smallest unit, rounded half up (2.5 % of 1999 is 50)."""
    fee = Decimal(amount) * Decimal(str(percent)) / Decimal(100)
    return int(fee.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _payment_intent(params: PaymentIntentInput, env: ActionEnv) -> dict[str, Any]:
    body = params.model_dump(exclude={"platform_fee"}, exclude_none=True)
    body["automatic_payment_methods"] = {"enabled": True}
    if params.platform_fee:
        body["application_fee_amount"] = application_fee(
            params.amount, env.options.platform_fee_percent
        )
    return body


class InvoiceItem(ActionInput):
    amount: int = Field(ge=1, le=99_999_999)
    description: str = Field(min_length=1, max_length=500)


class InvoiceInput(ActionInput):
    """An invoice of line items sent to a customer, due in ``days_until_due`` days."""

    customer: str = Field(pattern=r"^cus_[A-Za-z0-9_]+$")
    currency: str = Field(default="usd", pattern=CURRENCY)
    items: list[InvoiceItem] = Field(min_length=1, max_length=100)
    days_until_due: int = Field(default=30, ge=1, le=365)


class StripeInvoice(Action):
    """One invoice item per line, then the invoice that collects the pending items."""

    provider = "stripe"
    name = "create_invoice"
    input = InvoiceInput
    description = "Create and send a Stripe invoice with line items."
    idempotency_header = "Idempotency-Key"

    def calls(self, params: InvoiceInput, env: ActionEnv) -> Sequence[HttpCall]:
        lines = [
            HttpCall(
                "POST",
                "/invoiceitems",
                data={
                    "customer": params.customer,
                    "currency": params.currency,
                    "amount": str(item.amount),
                    "description": item.description,
                },
            )
            for item in params.items
        ]
        invoice = {
            "customer": params.customer,
            "collection_method": "send_invoice",
            "days_until_due": str(params.days_until_due),
            "pending_invoice_items_behavior": "include",
        }
        return [*lines, HttpCall("POST", "/invoices", data=invoice)]

    def output(self, responses: Sequence[ProviderResponse]) -> dict[str, Any]:
        return {"id": responses[-1].json().get("id")}


class InventoryLevel(ActionInput):
    """Set the available quantity of an inventory item at a location."""

    inventory_item_id: int = Field(ge=1)
    location_id: int = Field(ge=1)
    available: int = Field(ge=-1_000_000, le=1_000_000_000)


class ReceiptLine(ActionInput):
    """One sold item: its QuickBooks item id, the line amount and optional quantity."""

    item_id: str = Field(pattern=r"^[0-9]{1,20}$")
    amount: float = Field(ge=0, le=99_999_999_999)
    quantity: float | None = Field(default=None, gt=0)
    description: str | None = Field(default=None, max_length=4_000)


class SalesReceipt(ActionInput):
    """A payment already received, recorded as a QuickBooks sales receipt.

    Follows https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/salesreceipt
    (``Line`` of ``SalesItemLineDetail``, ``CustomerRef``, ``PaymentRefNum``).
    """

    lines: list[ReceiptLine] = Field(min_length=1, max_length=100)
    customer_id: str | None = Field(default=None, pattern=r"^[0-9]{1,20}$")
    txn_date: date | None = None
    payment_ref: str | None = Field(default=None, max_length=21)
    note: str | None = Field(default=None, max_length=4_000)


def _receipt_line(line: ReceiptLine) -> dict[str, Any]:
    detail: dict[str, Any] = {"ItemRef": {"value": line.item_id}}
    if line.quantity is not None:
        detail["Qty"] = line.quantity
    row: dict[str, Any] = {
        "Amount": line.amount,
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": detail,
    }
    return {**row, "Description": line.description} if line.description else row


def _sales_receipt(params: SalesReceipt, env: ActionEnv) -> dict[str, Any]:
    body: dict[str, Any] = {"Line": [_receipt_line(line) for line in params.lines]}
    optional = {
        "CustomerRef": {"value": params.customer_id} if params.customer_id else None,
        "TxnDate": params.txn_date.isoformat() if params.txn_date else None,
        "PaymentRefNum": params.payment_ref,
        "PrivateNote": params.note,
    }
    return {**body, **{k: v for k, v in optional.items() if v is not None}}


STRIPE = "Idempotency-Key"
ACTIONS: list[Action] = [
    Declared(
        provider="stripe",
        name="create_customer",
        input=StripeCustomer,
        path="/customers",
        form=True,
        outputs={"id": "id"},
        idempotency_header=STRIPE,
        description="Create a Stripe customer.",
    ),
    Declared(
        provider="stripe",
        name="create_payment_intent",
        input=PaymentIntentInput,
        path="/payment_intents",
        body=_payment_intent,
        form=True,
        outputs={
            "id": "id",
            "amount": "amount",
            "application_fee_amount": "application_fee_amount",
        },
        idempotency_header=STRIPE,
        description="Create a payment intent, with the platform's Connect application fee.",
    ),
    StripeInvoice(),
    Declared(
        provider="shopify",
        name="set_inventory_level",
        input=InventoryLevel,
        path="/inventory_levels/set.json",
        outputs={"available": "inventory_level.available"},
        description="Set a Shopify inventory level at a location.",
    ),
    Declared(
        provider="quickbooks",
        name="create_sales_receipt",
        input=SalesReceipt,
        path="/salesreceipt",
        body=_sales_receipt,
        outputs={"id": "SalesReceipt.Id", "doc_number": "SalesReceipt.DocNumber"},
        description="Record a received payment as a QuickBooks sales receipt.",
    ),
]
