"""Order-form tokens: signed, expiring, bound to one merchant; the nonce makes resubmits idempotent."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from app.config.loader import load_merchant
from app.signup.formtoken import FormTokens, InvalidFormToken, TokenProblem
from app.signup.service import SignupRequest, SignupService
from app.store import TinyDBStore
from tests.helpers.app import DEMO_CONFIG

SECRET = "form-token-test-secret"


def test_a_token_verifies_for_its_merchant() -> None:
    tokens = FormTokens(SECRET)
    token = tokens.verify(tokens.issue("acme"), "acme")
    assert len(token.nonce) >= 24
    assert tokens.verify(tokens.issue("acme"), "acme").nonce != token.nonce  # one per rendered form


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda t: None, TokenProblem.MISSING),
        (lambda t: t.issue("acme")[:-2] + "xx", TokenProblem.TAMPERED),
        (lambda t: "not-a-token", TokenProblem.TAMPERED),
        (lambda t: FormTokens("another-instance-secret").issue("acme"), TokenProblem.TAMPERED),
        (lambda t: t.issue("stromma"), TokenProblem.OTHER_MERCHANT),
        (
            lambda t: URLSafeTimedSerializer(SECRET, salt="portico.order-form").dumps(["acme"]),
            TokenProblem.TAMPERED,
        ),
    ],
)
def test_refused_tokens(make, problem: TokenProblem) -> None:
    tokens = FormTokens(SECRET)
    with pytest.raises(InvalidFormToken) as refused:
        tokens.verify(make(tokens), "acme")
    assert refused.value.problem is problem


def test_an_old_token_has_expired(monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = FormTokens(SECRET, max_age=1)
    token = tokens.issue("acme")
    later = int(time.time()) + 2  # the signer's clock two seconds on, past max_age
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda signer: later)
    with pytest.raises(InvalidFormToken) as refused:
        tokens.verify(token, "acme")
    assert refused.value.problem is TokenProblem.EXPIRED


def test_the_same_nonce_signs_up_once(tmp_path: Path) -> None:
    config = load_merchant(DEMO_CONFIG / "merchants" / "acme.yaml", frozenset({"default"})).config
    store = TinyDBStore(tmp_path / "data")
    service = SignupService(store, lambda: datetime(2026, 11, 21, 12, tzinfo=UTC))
    request = SignupRequest(
        nonce="n-1", plan_id="starter", values={"email": "a@example.com"}, language="de",
        payment_method="invoice",
    )  # fmt: skip
    first = service.sign_up("acme", config, request)
    second = service.sign_up("acme", config, request)
    assert first.created and not second.created
    assert second.signup_id == first.signup_id and second.customer_number == first.customer_number
    other = service.sign_up("acme", config, SignupRequest(**{**request.__dict__, "nonce": "n-2"}))
    assert other.created and other.customer_number == "C-000002"
    with store.read("acme") as tx:
        assert tx.collection("customers").count() == 2
