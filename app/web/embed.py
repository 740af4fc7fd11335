"""Embedding: the loader merchants paste (``/embed.js``) and the script inside the frame.

The loader creates one iframe per ``[data-portico-order]`` element and relays
what the frame reports (ready, resize, signup, error) as DOM events on that
element. Both sides post messages only to an explicit origin and check the
sender's origin; messages carry heights, event names and ids, never personal data.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import rjsmin
from flask import Blueprint, Response, request, url_for

from app.config.models import MerchantConfig

blueprint = Blueprint("embed", __name__)
ASSETS = Path(__file__).parent / "assets"


@dataclass(frozen=True)
class EmbedContext:
    """What an order page in embed mode tells its frame script."""

    parent_origin: str | None  # the embedding site, when it is one of the allowed origins
    script_url: str


@cache
def _script(name: str) -> tuple[str, str]:
    """A minified asset and its version (a digest of the source)."""
    source = (ASSETS / name).read_text(encoding="utf-8")
    return rjsmin.jsmin(source, keep_bang_comments=True), hashlib.sha256(
        source.encode()
    ).hexdigest()[:12]


def _serve(name: str, max_age: int) -> Response:
    body, version = _script(name)
    response = Response(body, mimetype="text/javascript")
    response.set_etag(version)
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response.make_conditional(request)


@blueprint.get("/embed.js")
def loader() -> Response:
    """Its URL is pasted into merchant sites, so it is cached briefly and revalidated by ETag."""
    return _serve("embed.js", max_age=300)


@blueprint.get("/embed/frame.js")
def frame_script() -> Response:
    """Requested with ``?v=<version>``, so browsers may keep it for a year."""
    return _serve("frame.js", max_age=365 * 24 * 3600)


def embed_context(config: MerchantConfig) -> EmbedContext:
    requested = (request.args.get("origin") or "").lower().rstrip("/")
    allowed = requested if requested in config.embed.allowed_origins else None
    _, version = _script("frame.js")
    return EmbedContext(allowed, url_for("embed.frame_script", v=version))
