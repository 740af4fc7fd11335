"""Billing: plans, subscriptions, invoices, payments. Knows nothing of Flask."""
