"""What the Stripe tests share: a Stripe merchant, its keys, and localstripe's answers.

localstripe (PyPI) is a stateful fake of Stripe's API with a Stripe.js shim at
``/js.stripe.com/v3/`` that mocks the Card Element and 3-D Secure (a dialog with
"Complete authentication" / "Fail authentication"). The ``localstripe`` fixture
(``tests/conftest.py``) starts it once per test session as a subprocess from the
venv and stops it at the end; ``stripe_env`` puts the keys below in the environment.
"""

from __future__ import annotations

import shutil
import time
import urllib.request
from pathlib import Path

from tests.helpers.app import DEMO_CONFIG, app_settings

SECRET_ENV = "PORTICO_ACME_STRIPE_SECRET_KEY"
WEBHOOK_ENV = "PORTICO_ACME_STRIPE_WEBHOOK_SECRET"
SECRET_KEY = "sk_test_portico_localstripe"
WEBHOOK_SECRET = "whsec_portico_test"
STRIPE_PAYMENTS = f"""payments:
  methods: [card, sepa_debit, invoice]
  providers: {{card: stripe}}
  stripe:
    publishable_key: pk_test_portico
    secret_key_env: {SECRET_ENV}
    webhook_secret_env: {WEBHOOK_ENV}
"""


def stripe_config_dir(target: Path) -> Path:
    """A config folder with ACME taking cards through Stripe (and the other demo files)."""
    merchants = target / "merchants"
    shutil.copytree(DEMO_CONFIG / "merchants", merchants)
    path = merchants / "acme.yaml"
    text = path.read_text()
    old = "payments:\n  methods: [card, sepa_debit, invoice]\n"
    assert old in text, "the demo acme.yaml changed its payments block"
    path.write_text(text.replace(old, STRIPE_PAYMENTS))
    return target


def stripe_overrides(instance_dir: Path, config_dir: Path, localstripe: str) -> dict[str, str]:
    """The settings of an app taking cards through localstripe."""
    return app_settings(
        instance_dir,
        config_dir,
        PORTICO_SIGNUP_RATE_LIMIT="1000 per minute",
        PORTICO_STRIPE_API_BASE=localstripe,
        PORTICO_STRIPE_JS_URL=f"{localstripe}/js.stripe.com/v3/",
    )


def confirm_setup(
    localstripe: str, client_secret: str, number: str, *, authenticate: bool = True
) -> dict:
    """Confirm a SetupIntent with a test card as the Stripe.js shim does (3-D Secure
    answered with ``authenticate``); returns the SetupIntent as localstripe answers."""
    import json

    setup_intent = client_secret.split("_secret_")[0]
    body = {
        "key": "pk_test_portico",
        "use_stripe_sdk": True,
        "client_secret": client_secret,
        "payment_method_data": {
            "type": "card",
            "card": {"number": number, "exp_month": "12", "exp_year": "2030", "cvc": "123"},
        },
    }

    def post(path: str, payload: dict) -> dict:
        request = urllib.request.Request(
            f"{localstripe}/v1/setup_intents/{setup_intent}/{path}",
            data=json.dumps(payload).encode(),
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.load(response)

    answer = post("confirm", body)
    if answer["status"] == "requires_action":
        again = {"key": "pk_test_portico", "use_stripe_sdk": True, "client_secret": client_secret}
        answer = post("confirm" if authenticate else "cancel", again)
    return answer


def authenticate_payment(localstripe: str, payment_intent: str, client_secret: str) -> dict:
    """Pass a PaymentIntent's 3-D Secure challenge as the shim's dialog does."""
    import json

    request = urllib.request.Request(
        f"{localstripe}/v1/payment_intents/{payment_intent}/_authenticate?success=true",
        data=json.dumps({"key": "pk_test_portico", "client_secret": client_secret}).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


def signed(payload: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    """A ``Stripe-Signature`` header as Stripe signs its webhook deliveries."""
    import hashlib
    import hmac

    timestamp = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"
