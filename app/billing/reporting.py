"""What billing tells about a customer: the account, subscriptions, the next bill,
invoices and their PDFs. Reads only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.billing import ledger, subscriptions
from app.billing.base import BillingBase, NotFoundError
from app.billing.invoices import InvoiceDraft
from app.billing.pdf import render_invoice_pdf
from app.billing.records import Invoice
from app.config.models import MerchantConfig


@dataclass(frozen=True)
class Account:
    currency: str
    balance: int  # > 0 arrears, < 0 credit (sum of the ledger)
    credit: int  # credit not yet used by an invoice
    outstanding: int  # what unpaid invoices still ask for


@dataclass(frozen=True)
class InvoicePage:
    """One page of a customer's invoices and credit notes, newest first."""

    invoices: tuple[Invoice, ...]  # this page's
    number: int  # from 1
    pages: int  # at least 1, also without any invoice
    total: int  # invoices and credit notes on all pages
    credit_notes: int  # of the total
    outstanding: bool  # whether any of them, on any page, has something left to pay


class BillingReports(BillingBase):
    def account(self, merchant: str, config: MerchantConfig, customer_id: str) -> Account:
        with self.store.read(merchant) as tx:
            self._customer(tx, customer_id)
            owed = ledger.owed(tx, customer_id)
            balance = ledger.balance(tx, customer_id)
            return Account(
                currency=config.merchant.currency,
                balance=balance,
                credit=ledger.unused_credit(owed, balance),
                outstanding=owed,
            )

    def subscriptions(self, merchant: str, customer_id: str) -> list[dict[str, Any]]:
        with self.store.read(merchant) as tx:
            return tx.collection("subscriptions").find(customer_id=customer_id)

    def next_bill(
        self, merchant: str, config: MerchantConfig, customer_id: str, subscription_id: str
    ) -> InvoiceDraft | None:
        """The next regular invoice as things stand now (credit included)."""
        with self.store.read(merchant) as tx:
            customer = self._customer(tx, customer_id)
            subscription = self._subscription(tx, customer_id, subscription_id)
            return subscriptions.next_bill(tx, config, subscription, customer)

    def invoices(self, merchant: str, customer_id: str) -> list[Invoice]:
        """The customer's invoices and credit notes, newest first."""
        with self.store.read(merchant) as tx:
            found = tx.collection("invoices").find(customer_id=customer_id)
        found.sort(key=lambda i: (i["issued_at"], i["number"]), reverse=True)
        return [Invoice.from_document(document) for document in found]

    def invoice_page(self, merchant: str, customer_id: str, number: int, size: int) -> InvoicePage:
        """Page ``number`` (from 1) of :meth:`invoices`, ``size`` to a page; a page
        before the first or after the last is :class:`NotFoundError`."""
        found = self.invoices(merchant, customer_id)
        pages = max(1, -(-len(found) // size))
        if not 1 <= number <= pages:
            raise NotFoundError(f"page {number}")
        start = (number - 1) * size
        return InvoicePage(
            invoices=tuple(found[start : start + size]),
            number=number,
            pages=pages,
            total=len(found),
            credit_notes=sum(1 for invoice in found if invoice.is_credit_note),
            outstanding=any(invoice.outstanding > 0 for invoice in found),
        )

    def invoice(self, merchant: str, customer_id: str, number: str) -> dict[str, Any]:
        with self.store.read(merchant) as tx:
            return self._invoice(tx, customer_id, number)

    def invoice_pdf(
        self, merchant: str, config: MerchantConfig, customer_id: str, number: str
    ) -> bytes:
        """The PDF of one of the customer's own invoices (else :class:`NotFoundError`)."""
        return render_invoice_pdf(
            self.invoice(merchant, customer_id, number), config, self.assets_dir
        )

    def pdf_of(self, merchant: str, config: MerchantConfig, invoice_id: str) -> bytes:
        """The PDF for an outbox attachment (``{"kind": "invoice_pdf", "invoice_id": ...}``)."""
        with self.store.read(merchant) as tx:
            invoice = tx.collection("invoices").get(invoice_id)
        if invoice is None:
            raise NotFoundError(invoice_id)
        return render_invoice_pdf(invoice, config, self.assets_dir)
