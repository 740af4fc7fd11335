"""The environment Portico runs in, read once: ``PORTICO_*`` variables (see the design)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THEMES_DIR = ROOT / "themes"
LOCALES_DIR = ROOT / "locales"


@dataclass(frozen=True)
class Settings:
    config_dir: Path
    instance_dir: Path
    secret_key: str
    base_url: str
    smtp_url: str | None
    store_url: str
    development: bool
    rate_limit_storage: str = "memory://"
    trusted_proxies: int = 0  # reverse proxies in front whose X-Forwarded-For is believed
    min_fill_seconds: float = 2.0  # order forms sent faster than this come from bots
    signup_rate_limit: str = "10 per minute;60 per hour"  # order posts per client address
    stripe_api_base: str = "https://api.stripe.com"  # tests point both at localstripe
    stripe_js_url: str = "https://js.stripe.com/v3/"

    @property
    def merchants_dir(self) -> Path:
        return self.config_dir / "merchants"

    @property
    def data_dir(self) -> Path:
        return self.instance_dir / "data"

    @property
    def outbox_dir(self) -> Path:
        return self.instance_dir / "outbox"


class SettingsError(RuntimeError):
    pass


def _development_secret(instance_dir: Path) -> str:
    """Development keeps one generated key in the instance folder across restarts."""
    path = instance_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    development = env.get("PORTICO_ENV", "development") != "production"
    instance_dir = Path(env.get("PORTICO_INSTANCE_DIR", "instance")).resolve()
    secret_key = env.get("PORTICO_SECRET_KEY", "")
    if not secret_key:
        if not development:
            raise SettingsError("PORTICO_SECRET_KEY is required in production")
        secret_key = _development_secret(instance_dir)
    base_url = env.get("PORTICO_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    return Settings(
        config_dir=Path(env.get("PORTICO_CONFIG_DIR", "config")).resolve(),
        instance_dir=instance_dir,
        secret_key=secret_key,
        base_url=base_url,
        smtp_url=env.get("PORTICO_SMTP_URL") or None,
        store_url=env.get("PORTICO_STORE", "tinydb"),
        development=development,
        rate_limit_storage=env.get("PORTICO_RATE_LIMIT_STORAGE", "memory://"),
        trusted_proxies=int(env.get("PORTICO_TRUSTED_PROXIES", "0")),
        min_fill_seconds=float(env.get("PORTICO_MIN_FILL_SECONDS", "2")),
        signup_rate_limit=env.get("PORTICO_SIGNUP_RATE_LIMIT") or Settings.signup_rate_limit,
        stripe_api_base=(env.get("PORTICO_STRIPE_API_BASE") or Settings.stripe_api_base).rstrip(
            "/"
        ),
        stripe_js_url=env.get("PORTICO_STRIPE_JS_URL") or Settings.stripe_js_url,
    )
