"""`payments.providers` and `payments.stripe` in the merchant YAML, as `portico check` sees them."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config.loader import load_merchant
from tests.helpers.stripe import STRIPE_PAYMENTS, stripe_config_dir

THEMES = frozenset({"default", "nordic"})


def report(tmp_path: Path, payments: str) -> list[str]:
    config = stripe_config_dir(tmp_path / "config")
    path = config / "merchants" / "acme.yaml"
    path.write_text(path.read_text().replace(STRIPE_PAYMENTS, payments))
    return load_merchant(path, THEMES).report()


def test_a_complete_stripe_block_passes(tmp_path: Path) -> None:
    assert [line for line in report(tmp_path, STRIPE_PAYMENTS) if "error" in line] == []


def test_the_old_gateway_key_and_no_providers_stay_valid(tmp_path: Path) -> None:
    old = "payments:\n  methods: [card, invoice]\n  gateway: sandbox\n"
    assert [line for line in report(tmp_path, old) if "error" in line] == []


@pytest.mark.parametrize(
    ("payments", "expected"),
    [
        (STRIPE_PAYMENTS.replace("    secret_key_env: PORTICO_ACME_STRIPE_SECRET_KEY\n", ""),
         "payments.stripe.secret_key_env"),
        (STRIPE_PAYMENTS.replace("pk_test_portico", "xk_test_portico"),
         "payments.stripe.publishable_key: expected a publishable key starting with 'pk_'"),
        (STRIPE_PAYMENTS.replace("pk_test_portico", "sk_test_portico"),
         "payments.stripe.publishable_key: this is a secret key"),
        (STRIPE_PAYMENTS.replace("PORTICO_ACME_STRIPE_WEBHOOK_SECRET", "OTHER_WEBHOOK_SECRET"),
         "payments.stripe.webhook_secret_env: 'OTHER_WEBHOOK_SECRET' is outside this merchant's "
         "namespace: name it PORTICO_ACME_"),
        ("payments:\n  methods: [card, invoice]\n  providers: {card: stripe}\n",
         "payments.providers.card: 'stripe' takes the card payments, but payments.stripe is missing"),
        ("payments:\n  methods: [card, invoice]\n  providers: {card: stripe, sepa_debit: stripe}\n",
         "payments.providers.sepa_debit: SEPA direct debit through Stripe is not available yet"),
    ],
)  # fmt: skip
def test_problems_are_reported_with_their_position(
    tmp_path: Path, payments: str, expected: str
) -> None:
    errors = [line for line in report(tmp_path, payments) if ": error: " in line]
    assert any(expected in line for line in errors), errors
    assert all(line.split(":")[1].isdigit() for line in errors)  # file:line:column


def test_secrets_never_appear_in_the_schema_as_values() -> None:
    from app.config.schema import merchant_schema

    text = str(merchant_schema())
    assert "secret_key_env" in text and "sk_live" not in text
