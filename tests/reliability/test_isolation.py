"""Tenant isolation: a merchant's objects are reachable only under that merchant's URLs.

Table-driven: each row of ``OBJECT_ROUTES`` names a route with a merchant and an
object id, and how to make a real object for a merchant. Every row is tried with
the owner's slug (found), another merchant's slug (404), an unknown merchant
(404) and made-up ids (404), and a 404 never shows the object's data.
``test_every_route_with_an_object_id_is_in_the_table`` makes a new route (the
portal's invoices, documents…) fail until it has its row here.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.app import DEMO_CONFIG
from tests.helpers.orders import VALID, open_form, stored
from tests.helpers.portal import sign_in_directly


@dataclass(frozen=True)
class Made:
    """An object made for a merchant: its id and text that only its owner may see."""

    id: str
    secrets: tuple[str, ...]


@dataclass(frozen=True)
class ObjectRoute:
    endpoint: str
    path: str  # "{merchant}" and "{id}" are filled in
    make: Callable[[Flask, FlaskClient, str], Made] | None  # None: made-up ids only, so far
    id_prefix: str = ""  # made-up ids look like real ones


def signup(app: Flask, client: FlaskClient, merchant: str) -> Made:
    token = open_form(client, merchant)
    email = f"owner.{secrets.token_hex(3)}@example.com"
    response = client.post(
        f"/{merchant}/order", data={**VALID[merchant], "email": email, "form_token": token}
    )
    assert response.status_code == 303
    signup_id = response.headers["Location"].split("/complete/")[1].split("?")[0]
    customer = next(c for c in stored(app, merchant, "customers") if c["email"] == email)
    return Made(signup_id, (customer["number"], email[:5], signup_id))


def invoice(app: Flask, client: FlaskClient, merchant: str) -> Made:
    """The first invoice of a new customer (acme bills at sign-up), ``client`` signed in."""
    made = signup(app, client, merchant)
    customer = next(c for c in stored(app, merchant, "customers") if c["number"] == made.secrets[0])
    sign_in_directly(app, client, merchant, customer["email"])
    number = next(
        i["number"] for i in stored(app, merchant, "invoices") if i["customer_id"] == customer["id"]
    )
    return Made(number, made.secrets)


OBJECT_ROUTES = [
    ObjectRoute("order.complete", "/{merchant}/order/complete/{id}", signup, "sig_"),
    # A sign-in link's token; its owner's side is tested with the portal.
    ObjectRoute("portal.verify", "/{merchant}/portal/verify/{id}", None),
    # Another customer's invoice number: tests/portal/test_invoices.py.
    ObjectRoute(
        "portal_invoices.invoice_pdf", "/{merchant}/portal/invoices/{id}.pdf", invoice, "ACME-"
    ),
]
NOT_OBJECT_ROUTES = {
    "merchant.asset": "<kind> is one of a fixed set of names: test_assets_are_the_merchants_own",
    "portal.confirm": "POST of a sign-in token, refused before any lookup without a form token",
    "portal_invoices.pay": "POST only, with the session's form token: tests/portal/test_invoices.py",
}
OWNER, OTHER = "acme", "stromma"
MAKEABLE = [route for route in OBJECT_ROUTES if route.make]  # the others: made-up ids only


def row_id(route: ObjectRoute) -> str:
    return route.endpoint


def made_up_ids(prefix: str) -> list[str]:
    return [
        f"{prefix}{secrets.token_hex(12)}",
        f"{prefix}000000000000000000000000",
        "..%2F..%2Fdata%2Facme.json",
        "%00",
        "x" * 5000,
        "<script>",
        "' OR '1'='1",
    ]


@pytest.fixture
def made(app: Flask, client: FlaskClient) -> dict[str, Made]:
    return {route.endpoint: route.make(app, client, OWNER) for route in OBJECT_ROUTES if route.make}


def assert_not_found(client: FlaskClient, url: str, hidden: tuple[str, ...] = ()) -> None:
    response = client.get(url)
    assert response.status_code == 404, url
    html = response.get_data(as_text=True)
    for text in hidden:
        assert text not in html.replace(url, ""), f"{url} shows {text!r}"


@pytest.mark.parametrize("route", MAKEABLE, ids=row_id)
def test_own_objects_are_found(route: ObjectRoute, client: FlaskClient, made) -> None:
    url = route.path.format(merchant=OWNER, id=made[route.endpoint].id)
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("route", MAKEABLE, ids=row_id)
def test_another_merchants_object_is_not_found(
    route: ObjectRoute, client: FlaskClient, made
) -> None:
    mine = made[route.endpoint]
    for merchant in (OTHER, "thistle", "nobody", "ACME", "acme-"):
        assert_not_found(client, route.path.format(merchant=merchant, id=mine.id), mine.secrets)


@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=row_id)
def test_made_up_ids_are_not_found(route: ObjectRoute, client: FlaskClient) -> None:
    for merchant in (OWNER, OTHER):
        for made_up in made_up_ids(route.id_prefix):
            assert_not_found(client, route.path.format(merchant=merchant, id=made_up))


def test_every_route_with_an_object_id_is_in_the_table(app: Flask) -> None:
    tabled = {route.endpoint for route in OBJECT_ROUTES} | set(NOT_OBJECT_ROUTES)
    with_ids = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "merchant" in rule.arguments and len(rule.arguments) > 1
    }
    assert with_ids - tabled == set(), "add these routes to OBJECT_ROUTES (or say why not)"


def test_assets_are_the_merchants_own(client: FlaskClient) -> None:
    merchants = DEMO_CONFIG / "merchants"
    with client.get(f"/{OTHER}/assets/logo") as response:
        assert response.status_code == 200
        assert response.get_data() == (merchants / "stromma" / "logo.png").read_bytes()
    for kind in ("favicon", "../acme/logo", "..%2F..%2Facme.yaml", "logo.svg", "LOGO", "%00"):
        assert client.get(f"/{OTHER}/assets/{kind}").status_code == 404, kind
    assert client.get("/nobody/assets/logo").status_code == 404
    assert client.get("/nobody/brand.css").status_code == 404


def test_brand_css_is_the_merchants_own(client: FlaskClient) -> None:
    acme = client.get(f"/{OWNER}/brand.css").get_data(as_text=True)
    stromma = client.get(f"/{OTHER}/brand.css").get_data(as_text=True)
    assert "--color-primary:#0b5fff;" in acme and "#0b5fff" not in stromma
    assert "--color-primary:#6b2fb3;" in stromma


def test_one_merchants_data_never_reaches_another_merchants_file(
    app: Flask, client: FlaskClient, made, instance_dir: Path
) -> None:
    signup(app, client, OTHER)
    files = {path.stem for path in (instance_dir / "data").glob("*.json")}
    assert files == {OWNER, OTHER}
    owner_emails = {c["email"] for c in stored(app, OWNER, "customers")}
    other_emails = {c["email"] for c in stored(app, OTHER, "customers")}
    assert owner_emails and other_emails and not owner_emails & other_emails
