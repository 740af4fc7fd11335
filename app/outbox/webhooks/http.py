"""One webhook POST with the standard library: a short timeout, no redirects followed."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Mapping

from app.outbox.dispatch import failure

TIMEOUT_SECONDS = 10.0


class Refused(Exception):
    """The endpoint did not accept the request; ``status`` is its HTTP status, if it sent one."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect could lead anywhere (another host, plain http): it is answered as a
    failure, so the signed body only ever goes to the URL the merchant wrote."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def post(url: str, body: bytes, headers: Mapping[str, str]) -> int:
    """POST ``body``; returns the 2xx status, else raises :class:`Refused` (the
    response body is never read into an error: it may echo the payload)."""
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        error.close()
        note = " (redirects are not followed)" if 300 <= error.code < 400 else ""
        raise Refused(f"HTTP {error.code}{note}", error.code) from None
    except (urllib.error.URLError, OSError) as error:
        raise Refused(failure(error)) from None
    if not 200 <= status < 300:
        raise Refused(f"HTTP {status}", status)
    return status
