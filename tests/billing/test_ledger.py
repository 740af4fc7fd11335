"""The account ledger under random sequences of invoices, payments, credits and refunds."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.billing import invoices, ledger, lifecycle, payments
from app.billing.gateways import gateways_for
from app.billing.invoices import Line
from app.billing.service import BillingService
from app.store import TinyDBStore
from tests.helpers.billing import GOOD_CARD, Shop, make_config
from tests.helpers.clock import Clock

operations = st.lists(
    st.one_of(
        st.tuples(st.just("invoice"), st.integers(min_value=0, max_value=100_000)),
        st.tuples(st.just("credit"), st.integers(min_value=1, max_value=50_000)),
        st.tuples(st.just("pay"), st.integers(min_value=0, max_value=20)),
        st.tuples(
            st.just("transfer"),
            st.integers(min_value=0, max_value=20),
            st.integers(min_value=1, max_value=150_000),
        ),
        st.tuples(
            st.just("refund"),
            st.integers(min_value=0, max_value=20),
            st.fractions(min_value=0, max_value=1),
        ),
        st.tuples(st.just("void"), st.integers(min_value=0, max_value=20)),
    ),
    max_size=12,
)


def check_invariants(shop: Shop, customer_id: str) -> None:
    with shop.store.read(shop.slug) as tx:
        entries = ledger.entries(tx, customer_id)
        documents = tx.collection("invoices").find(customer_id=customer_id)
        moves = tx.collection("payments").find(customer_id=customer_id, status="succeeded")
        balance = ledger.balance(tx, customer_id)
        credit = ledger.available_credit(tx, customer_id)
        unpaid = ledger.unpaid_invoices(tx, customer_id)
    assert balance == sum(entry["amount"] for entry in entries)
    # the ledger says what the documents say
    issued = sum(d["gross"] for d in documents) - sum(
        d["gross"] for d in documents if d["status"] == "void"
    )
    received = sum(m["amount"] for m in moves)  # refunds are stored negative
    assert balance == issued - received
    assert balance == sum(ledger.outstanding(i) for i in unpaid) - credit
    assert credit >= 0 and not (credit > 0 and unpaid)
    for document in documents:
        assert document["gross"] == document["net"] + document["tax"]
        assert sum(line["amount"] for line in document["lines"]) == document["net"]
        if document["kind"] == "invoice" and document["status"] != "void":
            settled = document["credit_applied"] + document["amount_paid"]
            assert 0 <= settled <= document["gross"]
            assert (document["status"] == "paid") == (settled == document["gross"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations, st.sampled_from(["0", "19", "25.5"]))
def test_the_balance_is_always_the_sum_of_entries_and_credit_is_used(ops, rate: str) -> None:
    config = make_config(billing={"tax": {"rate": rate}})
    with tempfile.TemporaryDirectory() as folder:
        store = TinyDBStore(Path(folder))
        clock = Clock()
        shop = Shop(store, clock, config, "shop")
        customer_id = shop.sign_up("basic", "invoice", None).customer_id
        service = BillingService(store, clock)
        gateways = gateways_for("sandbox", clock)
        card = service.add_payment_method("shop", config, customer_id, "card", GOOD_CARD)
        service.set_auto_pay("shop", customer_id, False)
        for op in ops:
            clock.advance(hours=1)
            with store.write("shop") as tx:
                customer = tx.collection("customers").get(customer_id)
                documents = tx.collection("invoices").find(customer_id=customer_id)
                open_ = [d for d in documents if ledger.outstanding(d) > 0]
                paid = tx.collection("payments").find(customer_id=customer_id, status="succeeded")
                charges = [p for p in paid if p["type"] != "refund"]
                now = clock()
                if op[0] == "invoice":
                    line = Line("plan", "Service", op[1])
                    draft = invoices.draft(tx, config, customer, (line,), now, subscription_id=None)
                    invoices.issue(tx, config, draft)
                elif op[0] == "credit":
                    line = invoices.credit_line("Goodwill", op[1])
                    draft = invoices.draft(tx, config, customer, (line,), now, subscription_id=None)
                    invoices.issue(tx, config, draft)
                elif op[0] == "pay" and open_:
                    method = tx.collection("payment_methods").get(card["id"])
                    payments.pay_now(tx, gateways, open_[op[1] % len(open_)], method, now)
                elif op[0] == "transfer" and open_:
                    payments.record_transfer(tx, open_[op[1] % len(open_)], op[2], f"ref{op}", now)
                elif op[0] == "refund" and charges:
                    payment = charges[op[1] % len(charges)]
                    refunded = -sum(
                        p["amount"] for p in paid if p["refunded_payment_id"] == payment["id"]
                    )
                    invoice = tx.collection("invoices").get(payment["invoice_id"])
                    notes = tx.collection("invoices").find(related_invoice_id=invoice["id"])
                    correctable = invoice["gross"] + sum(n["gross"] for n in notes)
                    credit = ledger.available_credit(tx, customer_id)
                    room = min(payment["amount"] - refunded, credit + correctable)
                    amount = int(room * op[2])
                    if amount > 0:
                        payments.refund(tx, config, gateways, payment, now, amount)
                elif op[0] == "void":
                    voidable = [d for d in open_ if d["status"] == "open" and not d["amount_paid"]]
                    if voidable:
                        invoices.void(tx, voidable[op[1] % len(voidable)], now)
                lifecycle.settle(tx, customer_id, now)
            check_invariants(shop, customer_id)
