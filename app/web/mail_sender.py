"""The mails a request leaves in the outbox, sent right after its answer.

Rendering an invoice PDF and talking to the SMTP server would otherwise make
the customer wait. The mails already wait in the outbox, so one this process
does not get to (it stopped, the queue was long) is sent by ``portico mail
deliver`` or the serve worker: still at least once.
"""

from __future__ import annotations

from flask import Flask, current_app

from app.config.loader import LoadedMerchant
from app.web.background import BackgroundWork
from app.web.services import portico


def send_later(loaded: LoadedMerchant, customer_id: str) -> None:
    """Send one customer's pending mails in this process's background sender."""
    mail_sender(current_app).submit(portico().mails.deliver_soon, loaded, customer_id)


def mail_sender(app: Flask) -> BackgroundWork:
    return app.extensions["portico.mail_sender"]


def init_app(app: Flask) -> None:
    # One thread: mails are sent one after another, beside the requests, not instead of them.
    app.extensions["portico.mail_sender"] = BackgroundWork(app, 1, "portico-mail")
