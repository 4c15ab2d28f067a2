with source as (

    select * from {{ source('raw', 'products') }}

),

renamed as (

    select
        id as product_id,
        name as product_name,
        lower(category) as category,
        price_cents,
        {{ cents_to_currency('price_cents') }} as price

    from source

)

select * from renamed
