"""Outgoing mail: SMTP when ``PORTICO_SMTP_URL`` is set, else ``.eml`` files in the outbox.

``smtp://user:pass@host:port`` speaks plain SMTP and upgrades with STARTTLS
when the server offers it; ``smtps://`` uses TLS from the first byte. The
password never reaches a log line.
"""

from __future__ import annotations

import logging
import os
import secrets
import smtplib
import ssl
import tempfile
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 15


def message_id(domain: str, idstring: str = "") -> str:
    """A unique Message-ID. Unlike :func:`email.utils.make_msgid` it draws from the OS,
    not the global ``random`` state, which a background sender must not move."""
    label = f".{idstring}" if idstring else ""
    return f"<{secrets.token_hex(16)}{label}@{domain}>"


def _draw_boundaries(message: EmailMessage) -> None:
    """Give every multipart part a boundary from the OS before the message is written:
    left to :mod:`email.generator`, each would move the global ``random`` state."""
    for part in message.walk():
        if part.is_multipart() and part.get_boundary() is None:
            part.set_boundary(f"==={secrets.token_hex(16)}==")


class MailError(RuntimeError):
    pass


class Mailer:
    def __init__(self, outbox_dir: Path, smtp_url: str | None = None) -> None:
        self.outbox_dir = outbox_dir
        self.smtp_url = smtp_url
        if smtp_url:
            parts = urlsplit(smtp_url)
            if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
                raise MailError("PORTICO_SMTP_URL must look like smtp://user:pass@host:port")

    def send(self, message: EmailMessage) -> None:
        _draw_boundaries(message)
        if self.smtp_url:
            self._send_smtp(message)
        else:
            path = self._write_outbox(message)
            log.info("mail to %s written to %s", message["To"], path)

    def _write_outbox(self, message: EmailMessage) -> Path:
        self.outbox_dir.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=self.outbox_dir, prefix=".mail-", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(bytes(message))
            handle.flush()
            os.fsync(handle.fileno())
        stamp = message["Message-ID"].strip("<>").split("@")[0]
        target = self.outbox_dir / f"{stamp}.eml"
        os.replace(temp, target)
        return target

    def _send_smtp(self, message: EmailMessage) -> None:
        parts = urlsplit(self.smtp_url or "")
        host, secure = parts.hostname or "", parts.scheme == "smtps"
        port = parts.port or (465 if secure else 25)
        context = ssl.create_default_context()
        try:
            if secure:
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    host, port, timeout=SMTP_TIMEOUT_SECONDS, context=context
                )
            else:
                client = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_SECONDS)
            with client:
                if not secure:
                    client.ehlo()
                    if client.has_extn("starttls"):
                        client.starttls(context=context)
                if parts.username:
                    client.login(unquote(parts.username), unquote(parts.password or ""))
                client.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            raise MailError(f"sending mail via {host}:{port} failed: {error}") from None
