"""The TinyDB store's indexes answer every query as a scan would, in table order.

Random sequences of inserts, updates, deletes and queries run against the
store and against a plain list of documents; queries are asked inside write
transactions (over changes not yet committed) and in read transactions after
each commit, on a store that writes whole files and on one that journals.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.store import TinyDBStore, indexes
from tests.helpers.stores import journaled_store, stored_tables

# 1, True and "1" are different values to the store; a list is a value no index holds.
VALUES = st.sampled_from([None, True, False, 0, 1, "1", "a", "b", [1]])
FIELDS = st.dictionaries(st.sampled_from(["f", "g", "h"]), VALUES, max_size=3)
IDS = st.sampled_from([f"d{n}" for n in range(8)])
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("insert"), IDS, FIELDS),
        st.tuples(st.just("update"), IDS, FIELDS),
        st.tuples(st.just("delete"), IDS, st.just({})),
        st.tuples(st.just("reinsert"), IDS, FIELDS),  # deleted and inserted again
        st.tuples(st.just("find"), st.just(""), FIELDS.filter(bool)),
        st.tuples(st.just("commit"), st.just(""), st.just({})),
    ),
    max_size=40,
)
_MISSING = object()


def is_exactly(document: dict, equals: dict[str, Any]) -> bool:
    found = [document.get(field, _MISSING) for field in equals]
    return all(
        type(value) is type(wanted) and value == wanted
        for value, wanted in zip(found, equals.values(), strict=True)
    )


def model_find(model: dict[str, dict], equals: dict[str, Any]) -> list[str]:
    return [id for id, document in model.items() if is_exactly(document, equals)]


@pytest.mark.parametrize("crowd", [indexes.CROWD, 2], ids=["as configured", "crowded"])
@pytest.mark.parametrize("journaled", [False, True], ids=["whole file", "journaled"])
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations=OPERATIONS)
def test_queries_find_what_a_scan_finds(journaled: bool, crowd: int, operations: list) -> None:
    """With a crowd of 2, most values are too common to be indexed, and buckets
    become crowded as documents arrive: queries then rely on other fields or scan."""
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
        patch.setattr(indexes, "CROWD", crowd)
        data_dir = Path(folder)
        store = journaled_store(data_dir) if journaled else TinyDBStore(data_dir)
        committed: dict[str, dict] = {}
        pending = dict(committed)
        tx_context = store.write("acme")
        tx = tx_context.__enter__()
        for operation, id, fields in operations:
            customers = tx.collection("customers")
            if operation == "insert" and id not in pending:
                customers.insert({"id": id, **fields})
                pending[id] = {"id": id, **fields}
            elif operation == "update" and id in pending:
                customers.update(id, fields)
                pending[id] = {**pending[id], **fields}
            elif operation in ("delete", "reinsert") and id in pending:
                customers.delete(id)
                del pending[id]
                if operation == "reinsert":
                    customers.insert({"id": id, **fields})
                    pending[id] = {"id": id, **fields}
            elif operation == "find":
                assert [d["id"] for d in customers.find(**fields)] == model_find(pending, fields)
                assert customers.count(**fields) == len(model_find(pending, fields))
            elif operation == "commit":
                tx_context.__exit__(None, None, None)
                committed = dict(pending)
                with store.read("acme") as read:
                    for fields in ({"f": 1}, {"f": True}, {"g": None}, {"f": "a", "g": "b"}):
                        found = [d["id"] for d in read.collection("customers").find(**fields)]
                        assert found == model_find(committed, fields)
                tx_context = store.write("acme")
                tx = tx_context.__enter__()
        tx_context.__exit__(None, None, None)
        if pending or committed:  # the order another program reads
            assert list(stored_tables(store.path("acme"))["customers"]) == list(pending)


def test_values_too_common_to_index_are_found_by_a_scan(
    tinydb_store: TinyDBStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(indexes, "CROWD", 2)
    with tinydb_store.write("acme") as tx:
        for number in range(5):
            tx.collection("customers").insert({"id": f"d{number}", "f": 1, "g": number})
    with tinydb_store.read("acme") as tx:  # builds the index: f=1 is crowded, g is not
        assert [d["id"] for d in tx.collection("customers").find(f=1)] == [
            f"d{n}" for n in range(5)
        ]
    with tinydb_store.write("acme") as tx:
        tx.collection("customers").insert({"id": "d5", "f": 1, "g": 5})
        tx.collection("customers").update("d0", {"f": 2})
    with tinydb_store.read("acme") as tx:
        customers = tx.collection("customers")
        assert [d["id"] for d in customers.find(f=1)] == ["d1", "d2", "d3", "d4", "d5"]
        assert [d["id"] for d in customers.find(f=1, g=5)] == ["d5"]
        assert [d["id"] for d in customers.find(f=2)] == ["d0"]
