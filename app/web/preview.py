"""The merchant's preview pages, opened by a token from ``portico preview``.

The order page and the portal are the real templates with sample data that
cannot be sent anywhere (``form-action 'none'``, no form token, no session);
the fields page lists every field's rules; the metrics dashboard shows the
merchant's numbers. A missing, expired, altered or other merchant's token
gets the branded 403 page and nothing else.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, Response, abort, request, url_for
from flask_babel import gettext

from app.core.clock import iso
from app.core.money import parse_amount
from app.portal.accounts import AccountOverview, SubscriptionSummary
from app.reports import metrics
from app.reports.exports import to_csv
from app.reports.preview import PreviewRefused, PreviewTokens, field_rows, sample_values
from app.web.merchant import MerchantPage, open_merchant, render_page
from app.web.order import render_preview
from app.web.portal.auth import PortalContext
from app.web.portal.overview import (
    Balance,
    PaymentMethodView,
    SubscriptionView,
    money,
    plan_view,
)
from app.web.security import forbid_form_posts
from app.web.services import portico

blueprint = Blueprint("preview", __name__)

SAMPLE_EMAIL = "jana.sample@example.com"


@blueprint.after_request
def _private(response: Response) -> Response:
    """A preview is for the merchant's eyes: not indexed, not cached, and its
    token never leaves in a Referer header."""
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _open(merchant: str) -> MerchantPage:
    """The merchant's page for a valid preview token of this merchant; else 403."""
    page = open_merchant(merchant)
    try:
        PreviewTokens(portico().settings.secret_key).verify(request.args.get("token"), page.slug)
    except PreviewRefused:
        abort(
            403,
            gettext(
                "This preview link is not valid or has expired. Run portico preview for a new one."
            ),
        )
    forbid_form_posts()
    return page


def _notice() -> str:
    return gettext("Preview with sample data: nothing on this page can be sent or saved.")


@blueprint.get("/<merchant>/preview/order")
def order(merchant: str) -> Response:
    page = _open(merchant)
    today = portico().now().date()
    return render_preview(page, sample_values(page.config, today), _notice())


@blueprint.get("/<merchant>/preview/portal")
def portal(merchant: str) -> Response:
    """The signed-in portal's overview as a customer with one subscription sees it,
    without its forms (``preview`` tells the portal templates to leave them out)."""
    page = _open(merchant)
    if not page.config.portal.enabled:
        abort(404)
    return render_page(
        page,
        "preview/portal.html",
        preview=True,
        notice=_notice(),
        portal=PortalContext(email=SAMPLE_EMAIL, csrf_token="", several_accounts=False),
        done="",
        feedback_action=None,
        **_sample_account(page),
    )


def _sample_account(page: MerchantPage) -> dict[str, object]:
    """``portal/overview.html``'s context for a sample customer on the first plan."""
    config = page.config
    plan = config.offered_plans[0]
    now = portico().now()
    trial_end = now + timedelta(days=plan.trial_days) if plan.trial_days else None
    period_end = iso(trial_end or now + timedelta(days=30))
    status = "trialing" if trial_end else "active"
    price = parse_amount(plan.price, config.merchant.currency)
    subscription = SubscriptionView(
        id="sub_preview",
        plan=plan_view(page, plan.id),
        status=status,
        trial_end=iso(trial_end) if trial_end else None,
        current_period_end=period_end,
        cancel_at_period_end=False,
        scheduled_plan=None,
        scheduled_at=None,
        pause_starts_at=None,
        resumes_at=None,
        next_bill_at=period_end,
        next_bill_amount=money(page, price, config.merchant.currency),
        can_change=config.portal.change_plan.enabled,
        can_cancel=config.portal.cancel.enabled,
        can_pause=False,  # a form; the preview shows none
        can_resume=False,
    )
    summary = SubscriptionSummary(
        id=subscription.id,
        plan_id=plan.id,
        status=status,
        trial_end=subscription.trial_end,
        current_period_end=period_end,
        cancel_at_period_end=False,
    )
    account = AccountOverview(
        customer_id="cus_preview",
        number="C-000123",
        email=SAMPLE_EMAIL,
        language=page.language,
        subscriptions=(summary,),
    )
    balance = Balance(
        outstanding=None,
        credit=None,
        auto_pay=True,
        method=PaymentMethodView(kind="invoice", label=gettext("Invoice")),
    )
    return {"account": account, "balance": balance, "subscriptions": [subscription]}


@blueprint.get("/<merchant>/preview/fields")
def fields(merchant: str) -> Response:
    page = _open(merchant)
    return render_page(
        page, "preview/fields.html", rows=field_rows(page.config, page.language), **_links(page)
    )


@blueprint.get("/<merchant>/preview/metrics")
def dashboard(merchant: str) -> Response:
    page = _open(merchant)
    report = _report(page)
    money = {
        "mrr": _money(page, report.mrr),
        "months": [(p.month, _money(page, p.mrr)) for p in report.mrr_by_month],
    }
    charts_data = {
        "mrr": [(p.month, p.mrr) for p in report.mrr_by_month],
        "funnel": [(f"{row.language}/{row.channel}", row.views) for row in report.funnel],
    }
    return render_page(
        page,
        "preview/metrics.html",
        report=report,
        money=money,
        charts_data=charts_data,
        ranges=_ranges(page),
        csv_url=url_for("preview.dashboard_csv", merchant=page.slug, **request.args.to_dict()),
        **_links(page),
    )


@blueprint.get("/<merchant>/preview/metrics.csv")
def dashboard_csv(merchant: str) -> Response:
    page = _open(merchant)
    columns = ("section", "key", "value")
    rows = [dict(zip(columns, row, strict=True)) for row in metrics.rows(_report(page))]
    body = to_csv(rows, columns)
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{page.slug}-metrics.csv"'
    return response


def _report(page: MerchantPage) -> metrics.Report:
    """The metrics for the ``since``/``until`` days of the query (default: the last year)."""
    days = []
    for name in ("since", "until"):
        value = request.args.get(name) or None
        try:
            days.append(datetime.strptime(value, "%Y-%m-%d").date() if value else None)
        except ValueError:
            abort(422, gettext("Dates are written as YYYY-MM-DD, for example 2026-01-31."))
    if days[0] and days[1] and days[0] > days[1]:
        abort(422, gettext("The first day comes after the last day."))
    container = portico()
    now = container.now()
    config = page.config.merchant
    since, until = metrics.period(days[0], days[1], config.timezone, now)
    return metrics.compute(container.store, page.slug, config.currency, since, until, now)


def _ranges(page: MerchantPage) -> list[tuple[str, str]]:
    """Links to common periods (a form could not be sent: previews send no forms)."""
    today = portico().now().date()
    args = {"merchant": page.slug, "token": request.args.get("token", ""), "lang": page.language}
    periods = [
        (gettext("Last 30 days"), today - timedelta(days=29)),
        (gettext("Last 90 days"), today - timedelta(days=89)),
        (gettext("Last 12 months"), today - timedelta(days=365)),
        (gettext("This year"), today.replace(month=1, day=1)),
    ]
    return [
        (
            label,
            url_for("preview.dashboard", since=since.isoformat(), until=today.isoformat(), **args),
        )
        for label, since in periods
    ]


def _money(page: MerchantPage, minor: int) -> str:
    return money(page, minor, page.config.merchant.currency)


def _links(page: MerchantPage) -> dict[str, object]:
    """Links between the preview pages, keeping the token and the language."""
    args = {"merchant": page.slug, "token": request.args.get("token", ""), "lang": page.language}
    return {
        "preview_links": [
            (gettext("Order page"), url_for("preview.order", **args)),
            (gettext("Portal"), url_for("preview.portal", **args)),
            (gettext("Fields"), url_for("preview.fields", **args)),
            (gettext("Metrics"), url_for("preview.dashboard", **args)),
        ]
    }
