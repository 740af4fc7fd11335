"""Mail as a customer receives it: a real SMTP server's mailbox on loopback (aiosmtpd),
and the sign-in link and code read from a mail.

Only the tests that read mail start the SMTP server (the ``mailbox`` fixture of
``tests/conftest.py``); every other app writes its mail to the instance's file
outbox (``PORTICO_SMTP_URL`` empty).
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller

from tests.helpers.net import free_port

LINK = re.compile(r"https?://\S+/portal/verify/[A-Za-z0-9_-]+\?lang=[a-z]{2}")
CODE = re.compile(r"^(\d{4} \d{4})\r?$", re.M)


class Mailbox:
    """An aiosmtpd handler keeping every message it receives, in order."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.delay = 0.0  # seconds each delivery takes (a slow mail server)
        self.smtp_url = ""  # set once its server listens
        self._changed = threading.Condition()

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._changed:
            self.messages.append(message)  # type: ignore[arg-type]
            self._changed.notify_all()
        return "250 Message accepted for delivery"

    def signin_mails(self, to: str | None = None) -> list[EmailMessage]:
        with self._changed:
            mails = [m for m in self.messages if LINK.search(text_of(m))]
        return [m for m in mails if to is None or m["To"].lower() == to.lower()]

    def wait_for_signin(self, to: str, count: int = 1, timeout: float = 30) -> EmailMessage:
        """The ``count``-th sign-in mail to ``to``, waiting for it to arrive."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(mails := self.signin_mails(to)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no sign-in mail #{count} to {to} within {timeout} s")
                self._changed.wait(left)
        return mails[count - 1]

    def wait_for_subject(self, subject: str, timeout: float = 30) -> EmailMessage:
        """The first mail with ``subject``, waiting for it to arrive."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for message in self.messages:
                    if message["Subject"] == subject:
                        return message
                left = deadline - time.monotonic()
                if left <= 0:
                    subjects = [m["Subject"] for m in self.messages]
                    raise AssertionError(f"no mail {subject!r} within {timeout} s: {subjects}")
                self._changed.wait(left)


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    """A real SMTP server on a loopback port, for as long as the block runs; its mailbox
    knows its ``smtp_url``."""
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.smtp_url = f"smtp://127.0.0.1:{controller.port}"
    try:
        yield box
    finally:
        controller.stop()


def smtp_settings(request: pytest.FixtureRequest) -> dict[str, str]:
    """``PORTICO_SMTP_URL`` of the ``mailbox`` fixture's server when the test takes that
    fixture (it reads mail), else nothing: the app writes its mail to the file outbox."""
    if "mailbox" not in request.fixturenames:
        return {}
    return {"PORTICO_SMTP_URL": request.getfixturevalue("mailbox").smtp_url}


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part else ""


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    return part.get_content() if part else ""


def link_and_code(message: EmailMessage) -> tuple[str, str]:
    """The confirmation page's path (with its query) and the code, from a sign-in mail."""
    text = text_of(message)
    link = LINK.search(text)
    code = CODE.search(text)
    assert link and code, text
    parts = urlsplit(link.group(0))
    return f"{parts.path}?{parts.query}", code.group(1)
