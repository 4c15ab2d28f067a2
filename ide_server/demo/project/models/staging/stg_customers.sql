with source as (

    select * from {{ source('raw', 'customers') }}

),

renamed as (

    select
        id as customer_id,
        first_name,
        last_name,
        first_name || ' ' || last_name as full_name,
        lower(email) as email,
        upper(country_code) as country_code,
        cast(created_at as timestamp) as created_at

    from source

)

select * from renamed
