with source as (

    select * from {{ source('raw', 'payments') }}

),

renamed as (

    select
        id as payment_id,
        order_id,
        lower(method) as payment_method,
        amount_cents,
        {{ cents_to_currency('amount_cents') }} as amount,
        cast(paid_at as timestamp) as paid_at

    from source

)

select * from renamed
