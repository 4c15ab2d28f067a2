"""Generate the demo warehouse: a DuckDB file with the shop's raw data for the demo project.

Everything is computed inside DuckDB from ``range()`` and ``hash()``, so a million orders
take seconds and the same DuckDB version always produces the same data. The tables and
their columns follow the contract in ``ide_server/demo/README.md`` (schema ``raw``).

The file is built under a temporary name in the same directory and renamed into place, so
a reader never sees a half-written warehouse and a crash leaves nothing behind but a
temporary file that the next attempt removes.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import duckdb

from ide_server.durable import fsync_path

DEMO_WAREHOUSE_NAME = "demo.duckdb"
CUSTOMERS = 50_000
PRODUCTS = 120
ORDERS = 1_000_000

COUNTRY_CODES = (
    "AR AU BE BR CA CH DE DK ES FR GB IE IN IT JP KE KR MX NL NO NZ PT SE SG US ZA".split()
)
_FIRST_NAMES = (
    "Ada Ben Chloe Dev Emma Felix Grace Hugo Ines Jonas Kai Lena Mateo Nora Omar Priya "
    "Quinn Rosa Sami Tara Umar Vera Wen Ximena Yusuf Zoe".split()
)
_LAST_NAMES = (
    "Andersen Bauer Costa Dubois Evans Fischer Garcia Hansen Ito Jensen Kim Larsen Müller "
    "Nakamura Oliveira Patel Quist Rossi Silva Tanaka Ueda Varga Weber Xu Yilmaz Zhang".split()
)
_PRODUCT_WORDS = {
    "beans": ("Espresso Blend", "Single Origin", "Decaf Roast", "Morning Roast", "Dark Roast"),
    "tea": ("Green Tea", "Earl Grey", "Oolong", "Chai", "Rooibos"),
    "equipment": ("Grinder", "Pour-over Kettle", "French Press", "Scale", "Dripper"),
    "merch": ("Mug", "Tote Bag", "T-Shirt", "Travel Cup", "Poster"),
}
_ADJECTIVES = ("Classic", "House", "Premium", "Small-batch", "Signature", "Everyday")


def create_demo_warehouse(data_dir: Path) -> Path:
    """Return ``<data_dir>/demo.duckdb``, generating it first if it does not exist yet."""
    target = Path(data_dir) / DEMO_WAREHOUSE_NAME
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(target.parent)
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".demo-", suffix=".duckdb.tmp")
    os.close(fd)
    temp = Path(temp_name)
    temp.unlink()  # DuckDB creates the file itself; an empty file is not a database
    try:
        with duckdb.connect(str(temp)) as conn:
            _generate(conn)
            conn.execute("CHECKPOINT")
        fsync_path(temp)
        os.replace(temp, target)
        fsync_path(target.parent)
    finally:
        for leftover in (temp, temp.with_name(temp.name + ".wal")):
            leftover.unlink(missing_ok=True)
    return target


def _generate(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute("SET threads = 2")  # the machine is shared with the pods being started
    # A deterministic draw from [0, n): hash() is UBIGINT, whose remainder DuckDB widens
    # to HUGEINT, which list indexing and interval arithmetic do not accept.
    conn.execute("CREATE TEMP MACRO draw(x, salt, n) AS (hash(x, salt) % n)::BIGINT")
    conn.execute("CREATE SCHEMA raw")
    for statement in (_CUSTOMERS_SQL, _PRODUCTS_SQL, _ORDERS_SQL, _PAYMENTS_SQL):
        conn.execute(statement.format(**_PARAMETERS))


def _list(values: tuple[str, ...] | list[str]) -> str:
    quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return f"[{quoted}]"


_PARAMETERS = {
    "customers": CUSTOMERS,
    "products": PRODUCTS,
    "orders": ORDERS,
    "countries": _list(COUNTRY_CODES),
    "first_names": _list(_FIRST_NAMES),
    "last_names": _list(_LAST_NAMES),
    "adjectives": _list(_ADJECTIVES),
    "categories": _list(list(_PRODUCT_WORDS)),
    **{f"words_{k}": _list(v) for k, v in _PRODUCT_WORDS.items()},
}

# draw(id, 'salt', n) is a deterministic stand-in for a random draw; each column uses its
# own salt so that columns are independent of each other.
_CUSTOMERS_SQL = """
CREATE TABLE raw.customers AS
SELECT
    i::INTEGER AS id,
    fn AS first_name,
    ln AS last_name,
    lower(fn || '.' || ln || i || '@example.com') AS email,
    {countries}[1 + draw(i, 'country', len({countries}))] AS country_code,
    TIMESTAMP '2019-01-01' + to_seconds(draw(i, 'created', 4 * 365 * 86400))
        AS created_at
FROM (
    SELECT
        range AS i,
        {first_names}[1 + draw(range, 'first', len({first_names}))] AS fn,
        {last_names}[1 + draw(range, 'last', len({last_names}))] AS ln
    FROM range(1, {customers} + 1)
)
ORDER BY id
"""

_PRODUCTS_SQL = """
CREATE TABLE raw.products AS
SELECT
    i::INTEGER AS id,
    {adjectives}[1 + draw(i, 'adjective', len({adjectives}))] || ' ' || CASE category
        WHEN 'beans' THEN {words_beans}[1 + draw(i, 'word', 5)]
        WHEN 'tea' THEN {words_tea}[1 + draw(i, 'word', 5)]
        WHEN 'equipment' THEN {words_equipment}[1 + draw(i, 'word', 5)]
        ELSE {words_merch}[1 + draw(i, 'word', 5)]
    END || ' #' || i AS name,
    category,
    (CASE category WHEN 'equipment' THEN 2500 ELSE 400 END + draw(i, 'price', 4000))::INTEGER
        AS price_cents
FROM (SELECT range AS i, {categories}[1 + range % 4] AS category FROM range(1, {products} + 1))
ORDER BY id
"""

_ORDERS_SQL = """
CREATE TABLE raw.orders AS
SELECT
    o.i::INTEGER AS id,
    c.id AS customer_id,
    (1 + draw(o.i, 'product', {products}))::INTEGER AS product_id,
    c.created_at + to_seconds(draw(o.i, 'ordered', 700 * 86400)) AS ordered_at,
    CASE
        WHEN draw(o.i, 'status', 100) < 70 THEN 'completed'
        WHEN draw(o.i, 'status', 100) < 80 THEN 'shipped'
        WHEN draw(o.i, 'status', 100) < 88 THEN 'placed'
        WHEN draw(o.i, 'status', 100) < 93 THEN 'returned'
        ELSE 'cancelled'
    END AS status,
    CASE WHEN draw(o.i, 'quantity', 10) < 7 THEN 1 ELSE 2 + draw(o.i, 'qty', 3) END::INTEGER
        AS quantity
FROM (SELECT range AS i FROM range(1, {orders} + 1)) AS o
JOIN raw.customers AS c ON c.id = 1 + draw(o.i, 'customer', {customers})
ORDER BY id
"""

# One payment per order that is not cancelled; one in ten is split into a gift card part
# and the rest, so that an order can have several payments. Payments never exceed the
# order's worth (quantity * price), as the project's tests expect.
_PAYMENTS_SQL = """
CREATE TABLE raw.payments AS
WITH worth AS (
    SELECT o.id, o.ordered_at, o.quantity * p.price_cents AS total, draw(o.id, 'pay', 1000000) AS h
    FROM raw.orders AS o JOIN raw.products AS p ON p.id = o.product_id
    WHERE o.status <> 'cancelled'
),
parts AS (
    SELECT id AS order_id, ordered_at, 1 AS part, h,
        CASE WHEN h % 10 = 0 THEN total - total // 4 ELSE total END AS amount,
        CASE WHEN h % 10 = 0 THEN 'card'
             WHEN h % 100 < 60 THEN 'card'
             WHEN h % 100 < 85 THEN 'bank_transfer'
             WHEN h % 100 < 95 THEN 'voucher'
             ELSE 'gift_card' END AS method
    FROM worth
    UNION ALL
    SELECT id, ordered_at, 2, h, total // 4, 'gift_card' FROM worth WHERE h % 10 = 0
)
SELECT
    row_number() OVER (ORDER BY order_id, part)::INTEGER AS id,
    order_id,
    method,
    amount::INTEGER AS amount_cents,
    ordered_at + to_seconds((60 + h % 86400 + part * 3600)::BIGINT) AS paid_at
FROM parts
ORDER BY id
"""


def _remove_leftovers(directory: Path) -> None:
    # Only old ones: a recent temporary file may belong to a build still running elsewhere.
    cutoff = time.time() - 3600
    for leftover in directory.glob(".demo-*.duckdb.tmp*"):
        try:
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink()
        except FileNotFoundError:
            pass
