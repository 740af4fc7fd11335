"""Which environment variables a merchant file may name: only its own, ``PORTICO_<SLUG>_…``.

Secrets never sit in YAML; a merchant names the variable that holds one
(``webhooks[].secret_env``, ``payments.stripe.secret_key_env``, any ``*_env`` key).
The environment is the operator's and shared by every merchant of the instance, so a
name is only accepted inside the merchant's namespace: ``PORTICO_`` + the slug upper-cased
with ``-`` as ``_`` + ``_`` (``PORTICO_ACME_WEBHOOK_SECRET`` for ``acme``). Never one of
Portico's own settings (``PORTICO_SECRET_KEY`` signs every session and token), and never
a name inside the namespace of another merchant with a longer slug: for merchants ``a``
and ``a-b``, ``PORTICO_A_B_SECRET`` belongs to ``a-b``.

``portico check`` reports a name outside the namespace as an error on its key, and the
code that reads a secret asks again at run time (:meth:`EnvNamespace.problem`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from app.config.problems import Path as KeyPath

ENV_KEY_SUFFIX = "_env"
OPERATOR_VARIABLES = frozenset(
    {
        "PORTICO_BASE_URL",
        "PORTICO_BENCH_POSTGRES",
        "PORTICO_CONFIG_DIR",
        "PORTICO_DEVELOPMENT",
        "PORTICO_ENV",
        "PORTICO_FUZZ_SECONDS",
        "PORTICO_INSTANCE_DIR",
        "PORTICO_MIN_FILL_SECONDS",
        "PORTICO_RATE_LIMIT_STORAGE",
        "PORTICO_SECRET_KEY",
        "PORTICO_SIGNUP_RATE_LIMIT",
        "PORTICO_SMTP_URL",
        "PORTICO_SOAK_SECONDS",
        "PORTICO_STORE",
        "PORTICO_STRIPE_API_BASE",
        "PORTICO_STRIPE_JS_URL",
        "PORTICO_TRUSTED_PROXIES",
    }
)
"""Portico's own settings (the operator's, development tools' included): no merchant file may
name one, whatever its slug. ``tests/security`` keeps this list complete against every
``PORTICO_*`` name in ``app/`` and the Makefile."""

_SLUG_FILE = re.compile(r"^[a-z0-9-]{2,40}$")


def env_prefix(slug: str) -> str:
    """The namespace of a merchant's environment variables: ``PORTICO_<SLUG>_``."""
    return f"PORTICO_{slug.upper().replace('-', '_')}_"


def merchant_slugs(merchants_dir: Path) -> frozenset[str]:
    """The slugs of the merchant files in ``merchants_dir`` (the other namespaces)."""
    try:
        return frozenset(
            path.stem for path in merchants_dir.glob("*.yaml") if _SLUG_FILE.match(path.stem)
        )
    except OSError:
        return frozenset()


@dataclass(frozen=True)
class EnvNamespace:
    """The variables one merchant may read; ``others`` are the slugs of the other merchants."""

    slug: str
    others: frozenset[str] = frozenset()

    @classmethod
    def of(cls, slug: str, merchants_dir: Path) -> EnvNamespace:
        return cls(slug, merchant_slugs(merchants_dir) - {slug})

    @property
    def prefix(self) -> str:
        return env_prefix(self.slug)

    def problem(self, name: str) -> str | None:
        """Why this merchant may not read the variable ``name``, or ``None``."""
        prefix = self.prefix
        if name in OPERATOR_VARIABLES:
            return (
                f"'{name}' is one of Portico's own settings, never a merchant's: "
                f"name it {prefix}… instead"
            )
        if not name.startswith(prefix) or len(name) == len(prefix):
            return (
                f"'{name}' is outside this merchant's namespace: name it {prefix}… "
                f"(for example {prefix}WEBHOOK_SECRET); a merchant file never reads the "
                "operator's or another merchant's variables"
            )
        for other in sorted(self.others, key=len, reverse=True):
            theirs = env_prefix(other)
            if len(theirs) > len(prefix) and name.startswith(theirs):
                return (
                    f"'{name}' is in the namespace of merchant '{other}' ({theirs}…): "
                    f"choose a name that does not start with {theirs}"
                )
        return None

    def allows(self, name: str) -> bool:
        return self.problem(name) is None


def env_keys(data: object, path: KeyPath = ()) -> Iterator[tuple[KeyPath, str]]:
    """Every ``*_env`` key of a parsed merchant file with the variable name it gives."""
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str) and key.endswith(ENV_KEY_SUFFIX) and isinstance(value, str):
                yield (*path, key), value
            else:
                yield from env_keys(value, (*path, key))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from env_keys(item, (*path, index))


def env_problems(data: object, namespace: EnvNamespace) -> Iterable[tuple[KeyPath, str]]:
    """``(key path, message)`` for each ``*_env`` key naming a variable not the merchant's."""
    for path, name in env_keys(data):
        if (message := namespace.problem(name)) is not None:
            yield path, message
