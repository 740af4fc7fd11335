"""What every feature shares: money, the clock, ids, built-in strings. Knows nothing of Flask."""
