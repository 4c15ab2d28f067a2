{#- Returned and cancelled orders bring in no revenue, so they do not count towards value. -#}
{%- set revenue_statuses = ['placed', 'shipped', 'completed'] -%}

with customers as (

    select * from {{ ref('stg_customers') }}

),

countries as (

    select * from {{ ref('country_codes') }}

),

orders as (

    select * from {{ ref('orders') }}

),

customer_orders as (

    select
        customer_id,
        min(ordered_at) as first_ordered_at,
        max(ordered_at) as most_recent_ordered_at,
        count(*) as number_of_orders,
        sum(case when status in ('returned', 'cancelled') then 1 else 0 end)
            as number_of_lost_orders,
        sum(
            case
                when status in ('{{ revenue_statuses | join("', '") }}') then amount_paid
                else 0
            end
        ) as lifetime_value

    from orders
    group by customer_id

),

final as (

    select
        customers.customer_id,
        customers.first_name,
        customers.last_name,
        customers.full_name,
        customers.email,
        customers.country_code,
        countries.country_name,
        countries.region,
        customers.created_at,
        customer_orders.first_ordered_at,
        customer_orders.most_recent_ordered_at,
        coalesce(customer_orders.number_of_orders, 0) as number_of_orders,
        coalesce(customer_orders.number_of_lost_orders, 0) as number_of_lost_orders,
        coalesce(customer_orders.lifetime_value, 0) as lifetime_value,
        case
            when customer_orders.customer_id is null then 'prospect'
            when customer_orders.lifetime_value >= {{ var('vip_lifetime_value', 250) }} then 'vip'
            when customer_orders.number_of_orders > 1 then 'returning'
            else 'new'
        end as customer_segment

    from customers
    left join countries
        on customers.country_code = countries.country_code
    left join customer_orders
        on customers.customer_id = customer_orders.customer_id

)

select * from final
