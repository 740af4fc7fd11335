"""Domain services: what Portico does, independent of Flask requests."""
