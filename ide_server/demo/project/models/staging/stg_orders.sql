with source as (

    select * from {{ source('raw', 'orders') }}

),

renamed as (

    select
        id as order_id,
        customer_id,
        product_id,
        cast(ordered_at as timestamp) as ordered_at,
        cast(ordered_at as date) as order_date,
        lower(status) as status,
        quantity

    from source

)

select * from renamed
