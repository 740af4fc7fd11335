"""The ``portico`` command: one module per command group, sharing one context."""

from app.cli.main import main

__all__ = ["main"]
