-- An analysis is compiled but never run by `dbt run`: compile it and preview the SQL.
with ranked as (

    select
        region,
        full_name,
        lifetime_value,
        row_number() over (partition by region order by lifetime_value desc) as rank_in_region
    from {{ ref('customers') }}
    where customer_segment <> 'prospect'

)

select * from ranked
where rank_in_region <= 3
order by region, rank_in_region
