"""Themes on the web: pages and static files resolved theme → default theme.

Each chain gets its own Jinja environment (an overlay of the app's), so the
template cache is keyed by the chain and one theme's templates never leak into
another's. Templates come only from the operator's ``themes/``: a merchant
chooses a theme, it never supplies a template (templates can run code). Static files are served from the same chain under a versioned URL
so browsers may cache them for a year.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import rcssmin
import rjsmin
from flask import Blueprint, Flask, Response, abort, current_app, request, send_file, url_for
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined
from werkzeug.security import safe_join

from app.config.colors import readable_on
from app.core.themes import chain

blueprint = Blueprint("themes", __name__)


def _environment(folders: tuple[Path, ...]) -> Environment:
    """One environment per chain and app, built on first use."""
    environments = current_app.extensions.setdefault("portico.theme_environments", {})
    if folders not in environments:
        loader = ChoiceLoader([FileSystemLoader(folder / "templates") for folder in folders])
        environments[folders] = current_app.jinja_env.overlay(loader=loader)
    return environments[folders]


def render(template: str, folders: tuple[Path, ...], **context: object) -> str:
    """Render a theme template with Flask's usual context (request, g, url_for, _)."""
    current_app.update_template_context(context)
    return _environment(folders).get_template(template).render(context)


def _find_static(theme: str, filename: str) -> Path | None:
    for folder in chain(theme):
        candidate = safe_join(str(folder / "static"), filename)
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


@cache
def _fingerprint(path: Path, mtime_ns: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10]


def static_url(theme: str, filename: str) -> str:
    """A cache-busting URL for a theme's static file."""
    path = _find_static(theme, filename)
    version = _fingerprint(path, path.stat().st_mtime_ns) if path else "missing"
    return url_for("themes.static", theme=theme, filename=filename, v=version)


_MINIFIERS = {".css": ("text/css", rcssmin.cssmin), ".js": ("text/javascript", rjsmin.jsmin)}


@cache
def _minified(path: Path, mtime_ns: int) -> bytes:
    """Stylesheets and scripts without comments and indentation: the page weighs less."""
    _, minify = _MINIFIERS[path.suffix]
    return minify(path.read_text(encoding="utf-8")).encode()


@blueprint.get("/static/<theme>/<path:filename>")
def static(theme: str, filename: str) -> Response:
    if theme not in current_app.extensions["portico"].merchants.themes:
        abort(404)
    path = _find_static(theme, filename)
    if path is None:
        abort(404)
    if path.suffix not in _MINIFIERS:
        return send_file(path, max_age=365 * 24 * 3600, conditional=True)
    stat = path.stat()
    response = Response(_minified(path, stat.st_mtime_ns), mimetype=_MINIFIERS[path.suffix][0])
    response.set_etag(_fingerprint(path, stat.st_mtime_ns))
    response.cache_control.public = True
    response.cache_control.max_age = 365 * 24 * 3600
    return response.make_conditional(request)


def init_app(app: Flask) -> None:
    app.jinja_env.undefined = StrictUndefined
    app.jinja_env.globals["theme_static"] = static_url
    app.jinja_env.filters["readable_on"] = readable_on  # button text on a merchant colour
    app.register_blueprint(blueprint)
