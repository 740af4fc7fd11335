"""Sign-up: the order form, its token, the price summary, and the service that turns a
valid form into a customer, a subscription and its first invoice. Knows nothing of Flask."""
