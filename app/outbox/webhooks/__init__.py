"""Webhooks: the merchant's endpoints get the events they subscribed to, signed and retried."""
