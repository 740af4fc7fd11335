"""What leaves Portico after a change: domain events, mails and webhooks, each written
in the change's transaction and delivered later, at least once. Knows nothing of Flask."""
