"""Everything a merchant's page needs before its own view runs, and its branding assets.

``open_merchant`` turns a slug into a page context or a branded error: 404 for
no such merchant, 503 for a merchant whose YAML has errors.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from babel import Locale
from flask import Blueprint, Response, abort, g, request, url_for
from werkzeug.exceptions import HTTPException

from app.billing.gateways.providers import missing_secrets
from app.config.assets import AssetRefused, load_asset
from app.config.colors import normalized, readable_on
from app.config.loader import LoadedMerchant
from app.config.models import MerchantConfig
from app.web import themes
from app.web.embed import embed_context
from app.web.i18n import negotiate, use_language
from app.web.services import portico
from forms import localize

log = logging.getLogger(__name__)
blueprint = Blueprint("merchant", __name__)

ASSET_KINDS = ("logo", "favicon")
ASSET_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; sandbox"
"""Every merchant asset, raster or SVG: opened on its own, it runs and fetches nothing."""


class MerchantUnavailable(HTTPException):
    """The merchant's file has errors: its pages answer 503 until it is fixed.

    ``problems`` (``file:line:column: severity: message``) are shown in development only."""

    code = 503

    def __init__(self, problems: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.problems = problems


@dataclass(frozen=True)
class LanguageLink:
    code: str
    name: str
    url: str
    current: bool


@dataclass(frozen=True)
class MerchantPage:
    slug: str
    loaded: LoadedMerchant
    config: MerchantConfig
    language: str
    folders: tuple[Path, ...]
    embed: bool

    def url_args(self) -> dict[str, str]:
        """Query arguments that keep a page in its language and embed mode across requests."""
        args = {"lang": self.language}
        if self.embed:
            args["embed"] = "1"
            if origin := request.args.get("origin"):
                args["origin"] = origin
        return args

    def text(self, value: object) -> str:
        """A merchant text in the page language."""
        return localize(value, self.language, self.config.default_language)  # type: ignore[arg-type]

    @property
    def theme(self) -> str:
        return self.config.branding.theme


def open_merchant(slug: str) -> MerchantPage:
    loaded = portico().merchants.get(slug)
    if loaded is None:
        abort(404)
    if loaded.config is None:
        raise MerchantUnavailable(tuple(loaded.report()))
    config = loaded.config
    if missing := missing_secrets(config):
        # The variable's name only: its value is a secret, and it is unset anyway.
        log.error("merchant %s is offline: %s not set", slug, ", ".join(missing))
        raise MerchantUnavailable(
            tuple(f"{loaded.path}: error: the environment variable {name} is not set"
                  for name in missing)
        )  # fmt: skip
    language = negotiate(config.languages)
    use_language(language)
    page = MerchantPage(
        slug=slug,
        loaded=loaded,
        config=config,
        language=language,
        folders=themes.chain(config.branding.theme),
        embed=request.args.get("embed") == "1" or request.form.get("embed") == "1",
    )
    g.merchant_page = page
    return page


def language_links(page: MerchantPage) -> list[LanguageLink]:
    args = request.args.to_dict()
    links = []
    for code in page.config.languages:
        url = url_for(request.endpoint or "", **{**(request.view_args or {}), **args, "lang": code})
        name = Locale.parse(code).get_display_name(code) or code
        links.append(LanguageLink(code, name[:1].upper() + name[1:], url, code == page.language))
    return links


def layout_context(page: MerchantPage | None, status: int) -> dict[str, object]:
    """What ``base.html`` needs; ``page`` is None on error pages of an unknown merchant."""
    if page is None:
        return {
            "page": None, "config": None, "merchant_name": "", "languages": [],
            "logo_url": None, "favicon_url": None, "brand_css_url": None,
            "embed": None, "status": status,
        }  # fmt: skip
    config = page.config
    branding = config.branding
    return {
        "page": page,
        "config": config,
        "merchant_name": config.merchant.name,
        "languages": language_links(page),
        "logo_url": _asset_url(page, "logo") if branding.logo else None,
        "favicon_url": _asset_url(page, "favicon") if branding.favicon else None,
        "brand_css_url": url_for("merchant.brand_css", merchant=page.slug, v=page.loaded.version),
        "embed": embed_context(config) if page.embed else None,
        "status": status,
    }


def render_page(
    page: MerchantPage, template: str, status: int = 200, **context: object
) -> Response:
    """Render a theme template for this merchant, with the layout's shared context."""
    html = themes.render(template, page.folders, **layout_context(page, status), **context)
    return Response(html, status=status, mimetype="text/html")


def _asset_url(page: MerchantPage, kind: str) -> str:
    return url_for("merchant.asset", merchant=page.slug, kind=kind, v=page.loaded.version)


@blueprint.get("/<merchant>/brand.css")
def brand_css(merchant: str) -> Response:
    """The merchant's colours as CSS custom properties, from validated hex values only."""
    page = open_merchant(merchant)
    colors = page.config.branding.colors
    primary = normalized(colors.primary)
    accent = normalized(colors.accent or colors.primary)
    declarations = {
        "--color-primary": primary,
        "--color-on-primary": readable_on(primary),
        "--color-accent": accent,
        "--color-on-accent": readable_on(accent),
        "--color-background": normalized(colors.background),
        "--color-text": normalized(colors.text),
    }
    body = ":root{" + "".join(f"{name}:{value};" for name, value in declarations.items()) + "}\n"
    response = Response(body, mimetype="text/css")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


@blueprint.get("/<merchant>/assets/<kind>")
def asset(merchant: str, kind: str) -> Response:
    """The merchant's logo or favicon, read again on every request from its own folder
    (never through a symbolic link) and served only as the image type its content parses
    as, an SVG sanitized; under a policy that runs nothing inside it (app.config.assets)."""
    page = open_merchant(merchant)
    relative = getattr(page.config.branding, kind) if kind in ASSET_KINDS else None
    if relative is None:
        abort(404)
    try:
        found = load_asset(page.loaded.path.parent, relative, page.slug)
    except AssetRefused as refused:  # changed since the check: a link, a page, a data file
        log.warning("the %s of %s is not served: %r %s", kind, page.slug, relative, refused)
        abort(404)
    response = Response(found.body, mimetype=found.media_type)
    response.headers["Content-Security-Policy"] = ASSET_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.set_etag(found.digest)
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response.make_conditional(request)
