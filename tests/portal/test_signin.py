"""Signing in by link and by code, in English, German and Swedish, and every refusal."""

from __future__ import annotations

import re
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from app.portal.tokens import TOKEN_BYTES
from tests.helpers.clock import Clock
from tests.helpers.mail import Mailbox, html_of, link_and_code, text_of
from tests.helpers.orders import form_token, stored
from tests.helpers.portal import ask_for_link, confirm, drain, sign_in_by_mail, sign_up

# (merchant, page language, email): every demo merchant, en, de and sv.
ROUND_TRIPS = [
    ("acme", "de", "jana@example.com"),
    ("acme", "en", "jana@example.com"),
    ("stromma", "sv", "sven@example.se"),
    ("thistle", "en", "ops@example.co.uk"),
    ("thistle", "de", "ops@example.co.uk"),
]
PLAN_NAMES = {
    ("acme", "de"): "Business",
    ("acme", "en"): "Business",
    ("stromma", "sv"): "Premium",
    ("thistle", "en"): "Office small",
    ("thistle", "de"): "Büro klein",
}


def without_tokens(html: str) -> str:
    return re.sub(r'name="form_token" value="[^"]+"', "", html)


@pytest.mark.parametrize(("merchant", "language", "email"), ROUND_TRIPS)
def test_link_round_trip_in_the_page_language(
    app: Flask, client: FlaskClient, mailbox: Mailbox, merchant: str, language: str, email: str
) -> None:
    number = sign_up(client, merchant, email, language)
    form = client.get(f"/{merchant}/portal?lang={language}")
    assert form.status_code == 200
    assert f'<html lang="{language}"' in form.get_data(as_text=True)
    assert 'autocomplete="email"' in form.get_data(as_text=True)

    answer = ask_for_link(client, merchant, email.upper(), language)
    assert answer.status_code == 200
    assert f'<html lang="{language}"' in answer.get_data(as_text=True)

    mail = mailbox.wait_for_signin(email)
    assert mail["Content-Language"] == language
    assert f'<html lang="{language}">' in html_of(mail)
    path, code = link_and_code(mail)
    assert f"lang={language}" in path
    assert re.fullmatch(r"\d{4} \d{4}", code)
    assert "15" in text_of(mail)
    assert path.startswith(f"/{merchant}/portal/verify/")

    landing = client.get(path)
    assert landing.status_code == 200
    assert landing.headers["Referrer-Policy"] == "no-referrer"
    assert landing.headers["Cache-Control"] == "no-store"
    assert f'<html lang="{language}"' in landing.get_data(as_text=True)
    assert landing.get_data(as_text=True).count("<form") == 1

    signed_in = confirm(client, path)
    assert signed_in.status_code == 303
    assert signed_in.headers["Referrer-Policy"] == "no-referrer"
    assert signed_in.headers["Location"] == f"/{merchant}/portal?lang={language}"
    overview = client.get(signed_in.headers["Location"])
    html = overview.get_data(as_text=True)
    assert overview.status_code == 200
    assert f'<html lang="{language}"' in html
    assert number in html
    assert email.split("@")[0] in html.lower()
    assert PLAN_NAMES[merchant, language] in html
    assert overview.headers["Cache-Control"] == "no-store"


def test_opening_the_link_consumes_nothing(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    sign_up(client, "acme", "jana@example.com")
    ask_for_link(client, "acme", "jana@example.com")
    path, _ = link_and_code(mailbox.wait_for_signin("jana@example.com"))
    for _ in range(3):  # a mail scanner, a preview, the customer
        assert client.get(path).status_code == 200
    assert all(t["used_at"] is None for t in stored(app, "acme", "signin_tokens"))
    assert stored(app, "acme", "sessions") == []
    assert confirm(client, path).status_code == 303


def test_a_link_signs_in_once(app: Flask, client: FlaskClient, mailbox: Mailbox) -> None:
    sign_up(client, "acme", "jana@example.com")
    ask_for_link(client, "acme", "jana@example.com")
    path, _ = link_and_code(mailbox.wait_for_signin("jana@example.com"))
    token = form_token(client.get(path).get_data(as_text=True))
    assert client.post(path, data={"form_token": token}).status_code == 303
    other = app.test_client()
    again = other.post(path, data={"form_token": token})
    assert again.status_code == 410
    assert "already been used" in again.get_data(as_text=True)
    assert other.get(path).status_code == 410
    assert other.get_cookie("portico-acme") is None
    assert len(stored(app, "acme", "sessions")) == 1


def test_an_expired_link_and_code_sign_nobody_in(
    app: Flask, client: FlaskClient, mailbox: Mailbox, clock: Clock
) -> None:
    sign_up(client, "acme", "jana@example.com")
    ask_for_link(client, "acme", "jana@example.com")
    path, code = link_and_code(mailbox.wait_for_signin("jana@example.com"))
    token = form_token(client.get(path).get_data(as_text=True))
    clock.advance(minutes=15, seconds=1)
    page = client.get(path)
    assert page.status_code == 410
    assert "expired" in page.get_data(as_text=True)
    assert client.post(path, data={"form_token": token}).status_code == 410
    refused = client.post(
        "/acme/portal/code",
        data={"email": "jana@example.com", "code": code, "form_token": token},
    )
    assert refused.status_code == 422
    assert stored(app, "acme", "sessions") == []


@pytest.mark.parametrize(
    "token",
    [
        "A" * 43,  # well-formed, never issued
        "short",
        "x" * 200,
        "not%20a%20token",
    ],
)
def test_forged_links_are_refused(app: Flask, client: FlaskClient, token: str) -> None:
    sign_up(client, "acme", "jana@example.com")
    path = f"/acme/portal/verify/{token}?lang=en"
    page = client.get(path)
    assert page.status_code == 404
    assert "not valid" in page.get_data(as_text=True)
    signin = client.get("/acme/portal").get_data(as_text=True)
    refused = client.post(path, data={"form_token": form_token(signin)})
    assert refused.status_code == 404
    assert client.get_cookie("portico-acme") is None
    assert stored(app, "acme", "sessions") == []


def test_tokens_have_256_bits_and_only_hashes_are_stored(
    app: Flask, client: FlaskClient, mailbox: Mailbox, instance_dir
) -> None:
    assert TOKEN_BYTES * 8 >= 128
    sign_up(client, "acme", "jana@example.com")
    response = sign_in_by_mail(client, mailbox, "acme", "jana@example.com")
    path, code = link_and_code(mailbox.wait_for_signin("jana@example.com"))
    token = path.split("/verify/")[1].split("?")[0]
    session_id = client.get_cookie("portico-acme").value
    assert len(token) == 43 and len(session_id) == 43
    data = (instance_dir / "data" / "acme.json").read_text()
    for secret in (token, code, code.replace(" ", ""), session_id):
        assert secret not in data
    assert response.status_code == 303


def test_the_answer_is_the_same_for_known_and_unknown_addresses(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    sign_up(client, "acme", "jana@example.com")
    known = ask_for_link(client, "acme", "jana@example.com")
    unknown = ask_for_link(client, "acme", "nobody@example.com")
    assert known.status_code == unknown.status_code == 200
    assert without_tokens(known.get_data(as_text=True)).replace(
        "jana@example.com", "X"
    ) == without_tokens(unknown.get_data(as_text=True)).replace("nobody@example.com", "X")
    assert set(known.headers.keys()) == set(unknown.headers.keys())
    drain(app)
    assert mailbox.signin_mails("nobody@example.com") == []
    assert len(mailbox.signin_mails("jana@example.com")) == 1


def test_the_answer_does_not_wait_for_the_mail(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    """Timing: looking up, issuing and sending happen after the answer, for every address."""
    sign_up(client, "acme", "jana@example.com")
    mailbox.delay = 1.5
    started = time.monotonic()
    ask_for_link(client, "acme", "jana@example.com")
    known = time.monotonic() - started
    assert known < 1.0
    assert mailbox.signin_mails("jana@example.com") == []
    mailbox.wait_for_signin("jana@example.com")


def test_the_link_comes_from_the_base_url_not_the_host_header(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    sign_up(client, "acme", "jana@example.com")
    ask_for_link(client, "acme", "jana@example.com", headers={"Host": "evil.example"})
    text = text_of(mailbox.wait_for_signin("jana@example.com"))
    assert "http://portico.test/acme/portal/verify/" in text
    assert "evil.example" not in text


def test_another_mail_waits_a_minute(
    app: Flask, client: FlaskClient, mailbox: Mailbox, clock: Clock
) -> None:
    sign_up(client, "acme", "jana@example.com")
    for _ in range(3):
        assert ask_for_link(client, "acme", "jana@example.com").status_code == 200
    drain(app)
    assert len(mailbox.signin_mails("jana@example.com")) == 1
    clock.advance(seconds=61)
    ask_for_link(client, "acme", "jana@example.com")
    mailbox.wait_for_signin("jana@example.com", count=2)


def test_sign_in_requests_are_limited_per_address(app: Flask, client: FlaskClient) -> None:
    sign_up(client, "acme", "jana@example.com")
    for email in ("jana@example.com", "nobody@example.com"):
        statuses = [
            ask_for_link(client, "acme", email.upper(), remote_addr=f"192.0.2.{n}").status_code
            for n in range(6)
        ]
        assert statuses == [200] * 5 + [429], email  # the same for known and unknown
    assert ask_for_link(client, "acme", "someone@example.com").status_code == 200


def test_sign_in_requests_are_limited_per_client(app: Flask, client: FlaskClient) -> None:
    statuses = [
        ask_for_link(client, "acme", f"person{n}@example.com").status_code for n in range(11)
    ]
    assert statuses == [200] * 10 + [429]


def test_an_invalid_address_is_explained(app: Flask, client: FlaskClient) -> None:
    for email, message in (("", "Enter your email address."), ("jana@", "Enter a valid email")):
        response = ask_for_link(client, "acme", email)
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert "error-summary" in html and message in html
        assert 'aria-invalid="true"' in html and 'href="#email"' in html


def test_sign_in_forms_refuse_cross_site_and_token_less_posts(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    sign_up(client, "acme", "jana@example.com")
    sign_up(client, "acme", "someone@example.com")
    token = form_token(client.get("/acme/portal").get_data(as_text=True))
    data = {"email": "someone@example.com"}
    assert client.post("/acme/portal/login", data=data).status_code == 400
    assert (
        client.post("/acme/portal/login", data={**data, "form_token": "forged"}).status_code == 400
    )
    cross_site = {"Sec-Fetch-Site": "cross-site"}
    assert (
        client.post(
            "/acme/portal/login", data={**data, "form_token": token}, headers=cross_site
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/acme/portal/login",
            data={**data, "form_token": token},
            headers={"Origin": "https://evil.example"},
        ).status_code
        == 403
    )
    other = form_token(client.get("/stromma/portal").get_data(as_text=True))
    assert client.post("/acme/portal/login", data={**data, "form_token": other}).status_code == 400
    drain(app)
    assert mailbox.signin_mails() == []

    ask_for_link(client, "acme", "jana@example.com")
    path, code = link_and_code(mailbox.wait_for_signin("jana@example.com"))
    assert client.post(path, data={"form_token": token}, headers=cross_site).status_code == 403
    assert client.post(path, data={}).status_code == 400
    code_data = {"email": "jana@example.com", "code": code}
    assert client.post("/acme/portal/code", data=code_data).status_code == 400
    assert (
        client.post(
            "/acme/portal/code", data={**code_data, "form_token": token}, headers=cross_site
        ).status_code
        == 403
    )
    assert stored(app, "acme", "sessions") == []
    assert confirm(client, path).status_code == 303  # nothing above used the link up


def test_an_expired_sign_in_form_is_shown_again(app: Flask, client: FlaskClient) -> None:
    class ThreeHoursAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 3 * 3600

    old = URLSafeTimedSerializer(
        app.config["SECRET_KEY"], salt="portico.portal-signin", signer=ThreeHoursAgo
    ).dumps({"m": "acme"})
    response = client.post(
        "/acme/portal/login?lang=en", data={"email": "jana@example.com", "form_token": old}
    )
    assert response.status_code == 422
    assert "expired" in response.get_data(as_text=True)
    assert 'value="jana@example.com"' in response.get_data(as_text=True)


@pytest.mark.parametrize(("merchant", "language", "email"), ROUND_TRIPS[:3])
def test_code_round_trip(
    app: Flask, client: FlaskClient, mailbox: Mailbox, merchant: str, language: str, email: str
) -> None:
    """Mail read on a phone, sign-in on a laptop: another browser types the code."""
    number = sign_up(client, merchant, email, language)
    ask_for_link(client, merchant, email, language)
    _, code = link_and_code(mailbox.wait_for_signin(email))
    laptop = app.test_client()
    page = laptop.get(f"/{merchant}/portal/code?lang={language}")
    html = page.get_data(as_text=True)
    assert 'autocomplete="one-time-code"' in html and 'inputmode="numeric"' in html
    response = laptop.post(
        f"/{merchant}/portal/code?lang={language}",
        data={
            "email": email.upper(),
            "code": code.replace(" ", "-"),
            "form_token": form_token(html),
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/{merchant}/portal?lang={language}"
    assert number in laptop.get(response.headers["Location"]).get_data(as_text=True)


def test_the_code_on_the_check_email_page(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    sign_up(client, "acme", "jana@example.com")
    answer = ask_for_link(client, "acme", "jana@example.com").get_data(as_text=True)
    _, code = link_and_code(mailbox.wait_for_signin("jana@example.com"))
    response = client.post(
        "/acme/portal/code?lang=en",
        data={"email": "jana@example.com", "code": code, "form_token": form_token(answer)},
    )
    assert response.status_code == 303


def code_attempt(client: FlaskClient, email: str, code: str):
    token = form_token(client.get("/acme/portal/code").get_data(as_text=True))
    return client.post(
        "/acme/portal/code", data={"email": email, "code": code, "form_token": token}
    )


def wrong(code: str) -> str:
    digits = code.replace(" ", "")
    return f"{(int(digits) + 1) % 10**8:08d}"


def test_five_wrong_codes_burn_the_code(app: Flask, client: FlaskClient, mailbox: Mailbox) -> None:
    sign_up(client, "acme", "jana@example.com")
    ask_for_link(client, "acme", "jana@example.com")
    path, code = link_and_code(mailbox.wait_for_signin("jana@example.com"))
    for _ in range(5):
        assert code_attempt(client, "jana@example.com", wrong(code)).status_code == 422
    refused = code_attempt(client, "jana@example.com", code)
    assert refused.status_code == 422
    assert client.get_cookie("portico-acme") is None
    assert confirm(client, path).status_code == 303  # the link itself still works


def test_refused_codes_look_alike(app: Flask, client: FlaskClient, mailbox: Mailbox) -> None:
    """Unknown address, no mail asked for, wrong code: the same words, after the same time."""
    sign_up(client, "acme", "jana@example.com")
    ask_for_link(client, "acme", "jana@example.com")
    _, code = link_and_code(mailbox.wait_for_signin("jana@example.com"))
    answers, durations = [], []
    for email in ("jana@example.com", "nobody@example.com"):
        started = time.monotonic()
        response = code_attempt(client, email, wrong(code))
        durations.append(time.monotonic() - started)
        assert response.status_code == 422
        html = without_tokens(response.get_data(as_text=True)).replace(email, "X")
        answers.append(html)
    assert answers[0] == answers[1]
    assert all(d >= 0.5 for d in durations)


def test_only_the_newest_code_counts(
    app: Flask, client: FlaskClient, mailbox: Mailbox, clock: Clock
) -> None:
    sign_up(client, "acme", "jana@example.com")
    ask_for_link(client, "acme", "jana@example.com")
    first_path, first_code = link_and_code(mailbox.wait_for_signin("jana@example.com"))
    clock.advance(seconds=61)
    ask_for_link(client, "acme", "jana@example.com")
    _, second_code = link_and_code(mailbox.wait_for_signin("jana@example.com", count=2))
    if first_code != second_code:
        assert code_attempt(client, "jana@example.com", first_code).status_code == 422
    assert code_attempt(client, "jana@example.com", second_code).status_code == 303
    # Signing in ended the other open link too.
    assert app.test_client().get(first_path).status_code == 410


# acme's pages are German unless asked otherwise
@pytest.mark.parametrize(
    ("code", "message"), [("", "8-stelligen Code"), ("12ab5678", "8-stelligen Code")]
)
def test_a_malformed_code_is_explained(
    app: Flask, client: FlaskClient, code: str, message: str
) -> None:
    response = code_attempt(client, "jana@example.com", code)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and 'href="#code"' in html
