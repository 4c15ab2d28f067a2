with orders as (

    select * from {{ ref('orders') }}
    where status not in ('returned', 'cancelled')

),

monthly as (

    select
        cast(date_trunc('month', ordered_at) as date) as order_month,
        category,
        count(*) as number_of_orders,
        sum(quantity) as units_sold,
        count(distinct customer_id) as number_of_customers,
        sum(order_amount) as gross_revenue,
        sum(amount_paid) as amount_collected

    from orders
    group by 1, 2

)

select * from monthly
order by order_month, category
