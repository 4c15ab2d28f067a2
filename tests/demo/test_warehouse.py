"""The generated demo warehouse follows the contract in ide_server/demo/README.md."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ide_server.demo.warehouse import COUNTRY_CODES, create_demo_warehouse

COLUMNS = {
    "customers": [
        ("id", "INTEGER"),
        ("first_name", "VARCHAR"),
        ("last_name", "VARCHAR"),
        ("email", "VARCHAR"),
        ("country_code", "VARCHAR"),
        ("created_at", "TIMESTAMP"),
    ],
    "products": [
        ("id", "INTEGER"),
        ("name", "VARCHAR"),
        ("category", "VARCHAR"),
        ("price_cents", "INTEGER"),
    ],
    "orders": [
        ("id", "INTEGER"),
        ("customer_id", "INTEGER"),
        ("product_id", "INTEGER"),
        ("ordered_at", "TIMESTAMP"),
        ("status", "VARCHAR"),
        ("quantity", "INTEGER"),
    ],
    "payments": [
        ("id", "INTEGER"),
        ("order_id", "INTEGER"),
        ("method", "VARCHAR"),
        ("amount_cents", "INTEGER"),
        ("paid_at", "TIMESTAMP"),
    ],
}

# Each query counts rows that break a rule of the contract: all must be 0.
VIOLATIONS = {
    "duplicate customer ids": "SELECT count(*) - count(DISTINCT id) FROM raw.customers",
    "missing emails": "SELECT count(*) FROM raw.customers WHERE email IS NULL",
    "unknown countries": "SELECT count(*) FROM raw.customers WHERE country_code NOT IN ({codes})",
    "duplicate product ids": "SELECT count(*) - count(DISTINCT id) FROM raw.products",
    "bad categories": "SELECT count(*) FROM raw.products "
    "WHERE category NOT IN ('beans', 'tea', 'equipment', 'merch')",
    "free products": "SELECT count(*) FROM raw.products WHERE price_cents <= 0 OR name IS NULL",
    "duplicate order ids": "SELECT count(*) - count(DISTINCT id) FROM raw.orders",
    "orphan orders": "SELECT count(*) FROM raw.orders o LEFT JOIN raw.customers c "
    "ON c.id = o.customer_id LEFT JOIN raw.products p ON p.id = o.product_id "
    "WHERE c.id IS NULL OR p.id IS NULL",
    "bad statuses": "SELECT count(*) FROM raw.orders WHERE status NOT IN "
    "('placed', 'shipped', 'completed', 'returned', 'cancelled')",
    "bad quantities": "SELECT count(*) FROM raw.orders WHERE quantity IS NULL OR quantity < 1",
    "duplicate payment ids": "SELECT count(*) - count(DISTINCT id) FROM raw.payments",
    "orphan payments": "SELECT count(*) FROM raw.payments p LEFT JOIN raw.orders o "
    "ON o.id = p.order_id WHERE o.id IS NULL",
    "bad methods": "SELECT count(*) FROM raw.payments WHERE method NOT IN "
    "('card', 'bank_transfer', 'gift_card', 'voucher')",
    "non-positive payments": "SELECT count(*) FROM raw.payments WHERE amount_cents <= 0",
    "overpaid orders": "SELECT count(*) FROM (SELECT o.id, any_value(o.quantity * p.price_cents) "
    "AS worth, sum(pay.amount_cents) AS paid FROM raw.orders o JOIN raw.products p "
    "ON p.id = o.product_id JOIN raw.payments pay ON pay.order_id = o.id GROUP BY o.id) "
    "WHERE paid > worth",
    "orders before their customer": "SELECT count(*) FROM raw.orders o JOIN raw.customers c "
    "ON c.id = o.customer_id WHERE o.ordered_at < c.created_at",
}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return create_demo_warehouse(tmp_path_factory.mktemp("data"))


def test_tables_and_columns(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        for table, columns in COLUMNS.items():
            described = conn.execute(f"DESCRIBE raw.{table}").fetchall()
            assert [(r[0], r[1]) for r in described] == columns
        (orders,) = conn.execute("SELECT count(*) FROM raw.orders").fetchone()
        assert orders == 1_000_000
        statuses = dict(
            conn.execute("SELECT status, count(*) FROM raw.orders GROUP BY 1").fetchall()
        )
        assert set(statuses) == {"placed", "shipped", "completed", "returned", "cancelled"}
        several = conn.execute(
            "SELECT count(*) FROM "
            "(SELECT order_id FROM raw.payments GROUP BY 1 HAVING count(*) > 1)"
        ).fetchone()
        assert several is not None and several[0] > 0


@pytest.mark.parametrize("rule", sorted(VIOLATIONS))
def test_contract_rules(warehouse: Path, rule: str) -> None:
    codes = ", ".join(f"'{c}'" for c in COUNTRY_CODES)
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        (count,) = conn.execute(VIOLATIONS[rule].format(codes=codes)).fetchone()
    assert count == 0, rule


def test_idempotent_deterministic_and_clean(warehouse: Path, tmp_path: Path) -> None:
    mtime = warehouse.stat().st_mtime_ns
    assert create_demo_warehouse(warehouse.parent) == warehouse
    assert warehouse.stat().st_mtime_ns == mtime  # not rebuilt
    assert sorted(p.name for p in warehouse.parent.iterdir()) == ["demo.duckdb"]
    other = create_demo_warehouse(tmp_path)
    fingerprint = (
        "SELECT sum(hash(id, customer_id, product_id, ordered_at, status, quantity)) "
        "FROM raw.orders"
    )
    with (
        duckdb.connect(str(warehouse), read_only=True) as a,
        duckdb.connect(str(other), read_only=True) as b,
    ):
        assert a.execute(fingerprint).fetchone() == b.execute(fingerprint).fetchone()
