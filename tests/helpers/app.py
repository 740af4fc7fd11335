"""One settings factory for every app a test builds, and the app builder on top of it.

:func:`app_settings` is the ``PORTICO_*`` variables of a test instance: a temp
instance folder, the demo merchants (or the test's own config folder), a fixed
secret, no SMTP server (mail goes to the instance's file outbox) and no minimum
fill time. The same dict serves ``create_app`` and the CLI's environment, so an
app and a command run by the test share one instance. :func:`make_app` builds
the app from it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask
from jinja2 import BytecodeCache, Environment
from jinja2.bccache import Bucket

from app.factory import create_app

ROOT = Path(__file__).resolve().parents[2]
DEMO_CONFIG = ROOT / "config"
DEMO_MERCHANTS = ("acme", "stromma", "thistle")
SECRET_KEY = "test-secret-key-for-signing-only"
BASE_URL = "http://portico.test"


def app_settings(
    instance_dir: Path | str, config_dir: Path | str = DEMO_CONFIG, **overrides: str
) -> dict[str, str]:
    """The ``PORTICO_*`` variables of a test instance; ``overrides`` (``PORTICO_…=``)
    add to them or replace them."""
    return {
        "PORTICO_INSTANCE_DIR": str(instance_dir),
        "PORTICO_CONFIG_DIR": str(config_dir),
        "PORTICO_SECRET_KEY": SECRET_KEY,
        "PORTICO_BASE_URL": BASE_URL,
        "PORTICO_SMTP_URL": "",
        "PORTICO_MIN_FILL_SECONDS": "0",
        **overrides,
    }


class CompiledTemplates(BytecodeCache):
    """Compiled page templates shared by the apps of one test process.

    Every test builds a fresh app, and each app would compile the same theme
    templates again; that was a third of the time of a portal test. The code is
    kept per template file, source checksum and the environment's compile-time
    options, so an edited template (or another environment) compiles anew.
    """

    def __init__(self) -> None:
        self._code: dict[tuple[str, str], Any] = {}

    def get_bucket(
        self, environment: Environment, name: str, filename: str | None, source: str
    ) -> Bucket:
        key = f"{self.get_cache_key(name, filename)}:{_compile_options(environment)}"
        bucket = Bucket(environment, key, self.get_source_checksum(source))
        self.load_bytecode(bucket)
        return bucket

    def load_bytecode(self, bucket: Bucket) -> None:
        bucket.code = self._code.get((bucket.key, bucket.checksum))

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key, bucket.checksum] = bucket.code


def _identity(value: object) -> object:
    """A callable option by the function it runs (a bound method by its function)."""
    function = getattr(value, "__func__", value)
    return getattr(function, "__qualname__", None) or repr(function)


def _compile_options(environment: Environment) -> int:
    """What the compiled code of a template depends on besides its source."""
    return hash(
        (
            environment.block_start_string,
            environment.block_end_string,
            environment.variable_start_string,
            environment.variable_end_string,
            environment.comment_start_string,
            environment.comment_end_string,
            environment.line_statement_prefix,
            environment.line_comment_prefix,
            environment.trim_blocks,
            environment.lstrip_blocks,
            environment.newline_sequence,
            environment.keep_trailing_newline,
            environment.optimized,
            environment.is_async,
            tuple(sorted(environment.extensions)),
            _identity(environment.autoescape),
            _identity(environment.finalize),
        )
    )


COMPILED_TEMPLATES = CompiledTemplates()


def make_app(
    instance_dir: Path | str,
    config_dir: Path | str = DEMO_CONFIG,
    *,
    clock: Callable[[], datetime] | None = None,
    **overrides: str,
) -> Flask:
    """The app from the factory over :func:`app_settings`; ``clock``, when given, is the
    time of every service (the test moves it)."""
    app = app_from(app_settings(instance_dir, config_dir, **overrides))
    if clock is not None:
        app.extensions["portico"].clock = clock
    return app


def app_from(settings: Mapping[str, str]) -> Flask:
    """The app from the factory over ``settings`` (:func:`app_settings`, or a variant a
    test also hands to the CLI)."""
    app = create_app(settings)
    app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
    return app


def mails_sent(app: Flask) -> None:
    """Wait until the app's background sender sent the mails requests handed to it
    (``app.outbox.mails.send_later``): a response no longer waits for its mails."""
    app.extensions["portico.mail_sender"].drain()


def stop_background_work(app: Flask) -> None:
    """Stop the app's sign-in and mail threads (before the SMTP server they talk to)."""
    app.extensions["portico.signin_mailer"].shutdown()
    app.extensions["portico.mail_sender"].shutdown()
