"""The baselines Portico's order page is measured against, served by the same gunicorn.

- ``GET /hello``: a bare Flask endpoint returning a short string (what the
  server, Flask and the network cost on their own);
- ``GET /order``: what a developer would write by hand instead of Portico for
  ACME's order page: one Flask-WTF form with the same fields, validators and
  choices, CSRF protection, and a Jinja template of about the same weight
  (plans, sections, labels, help texts, error slots, the country list).
"""

from __future__ import annotations

from babel import Locale
from flask import Flask, render_template
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, RadioField, SelectField, StringField, TelField
from wtforms.validators import DataRequired, Email, Length, Optional

COUNTRIES = sorted(
    (code, name)
    for code, name in Locale("en").territories.items()
    if len(code) == 2 and code.isalpha() and code not in ("EU", "EZ", "UN", "ZZ", "QO")
)
PLANS = [
    ("starter", "Starter", "€9.00/month", "For small teams", ["5 users", "10 GB storage"]),
    (
        "business",
        "Business",
        "€49.00/month",
        "For growing companies",
        ["50 users", "1 TB storage", "Phone support"],
    ),
    ("business-yearly", "Business yearly", "€490.00/year", "Two months free", ["50 users"]),
]


class OrderForm(FlaskForm):
    plan = RadioField("Plan", choices=[(p[0], p[1]) for p in PLANS], default="business")
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    customer_type = RadioField(
        "Customer type", choices=[("private", "Private"), ("business", "Business")]
    )
    company = StringField("Company", validators=[Optional(), Length(max=120)])
    vat_id = StringField("VAT ID", validators=[Optional(), Length(max=32)])
    first_name = StringField("First name", validators=[DataRequired(), Length(max=80)])
    last_name = StringField("Last name", validators=[DataRequired(), Length(max=80)])
    street = StringField("Street and number", validators=[DataRequired(), Length(max=200)])
    country = SelectField("Country", choices=COUNTRIES, default="DE")
    postal_code = StringField("Postal code", validators=[DataRequired(), Length(max=20)])
    city = StringField("City", validators=[DataRequired(), Length(max=200)])
    phone = TelField("Phone", validators=[Optional(), Length(max=40)])
    payment_method = RadioField(
        "Payment method",
        choices=[
            ("card", "Credit or debit card"),
            ("sepa_debit", "SEPA Direct Debit"),
            ("invoice", "Invoice (bank transfer)"),
        ],
        default="card",
    )
    card_number = StringField("Card number", validators=[Optional(), Length(max=23)])
    card_expiry = StringField("Expiry date (MM / YY)", validators=[Optional(), Length(max=7)])
    card_cvc = StringField("Security code (CVC)", validators=[Optional(), Length(max=4)])
    card_holder = StringField("Name on the card", validators=[Optional(), Length(max=100)])
    sepa_holder = StringField("Account holder", validators=[Optional(), Length(max=100)])
    sepa_iban = StringField("IBAN", validators=[Optional(), Length(max=50)])
    coupon = StringField("Coupon code", validators=[Optional(), Length(max=40)])
    terms = BooleanField("I accept the terms", validators=[DataRequired()])


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "bench-baseline-secret"

    @app.get("/healthz")  # what the gunicorn harness polls until the server is up
    def healthz() -> str:
        return "ok"

    @app.get("/hello")
    def hello() -> str:
        return "Hello, World!"

    @app.route("/order", methods=["GET", "POST"])
    def order() -> str:
        form = OrderForm()
        form.validate_on_submit()
        return render_template("baseline_order.html", form=form, plans=PLANS)

    return app
