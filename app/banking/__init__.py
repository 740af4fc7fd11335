"""Bank transfers: reading the merchant's bank statements and matching their credits to
open invoices."""
