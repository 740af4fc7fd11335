"""``portico serve``: the development server, with mail and webhook delivery beside it."""

from __future__ import annotations

import click


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Development server for the merchants in PORTICO_CONFIG_DIR; YAML reloads on change."""
    from app.factory import create_app
    from app.outbox.worker import DeliveryWorker

    app = create_app()
    with DeliveryWorker(app.extensions["portico"]):  # sends mails and webhooks in the background
        app.run(host=host, port=port, debug=False, use_reloader=False)
