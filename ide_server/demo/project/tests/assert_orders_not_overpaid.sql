-- Payments for an order should never add up to more than the order is worth.
-- A warning rather than an error: the shop would refund, not stop reporting.
{{ config(severity='warn') }}

select
    order_id,
    order_amount,
    amount_paid
from {{ ref('orders') }}
where amount_paid > order_amount
