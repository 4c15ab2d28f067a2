{#- One column per payment method, so the pivot stays readable SQL on any warehouse. -#}
{%- set payment_methods = ['card', 'bank_transfer', 'gift_card', 'voucher'] -%}

with orders as (

    select * from {{ ref('stg_orders') }}

),

products as (

    select * from {{ ref('stg_products') }}

),

payments as (

    select * from {{ ref('stg_payments') }}

),

order_payments as (

    select
        order_id,
        {% for method in payment_methods -%}
        sum(case when payment_method = '{{ method }}' then amount_cents else 0 end)
            as {{ method }}_cents,
        {% endfor -%}
        sum(amount_cents) as paid_cents,
        count(*) as payment_count,
        max(paid_at) as last_paid_at

    from payments
    group by order_id

),

final as (

    select
        orders.order_id,
        orders.customer_id,
        orders.product_id,
        products.product_name,
        products.category,
        orders.ordered_at,
        orders.order_date,
        orders.status,
        orders.quantity,
        products.price as unit_price,
        {{ cents_to_currency('orders.quantity * products.price_cents') }} as order_amount,
        {% for method in payment_methods -%}
        {{ cents_to_currency('coalesce(order_payments.' ~ method ~ '_cents, 0)') }}
            as {{ method }}_amount,
        {% endfor -%}
        {{ cents_to_currency('coalesce(order_payments.paid_cents, 0)') }} as amount_paid,
        coalesce(order_payments.payment_count, 0) as payment_count,
        order_payments.last_paid_at,
        coalesce(order_payments.paid_cents, 0) >= orders.quantity * products.price_cents
            as is_fully_paid

    from orders
    left join products
        on orders.product_id = products.product_id
    left join order_payments
        on orders.order_id = order_payments.order_id

)

select * from final
