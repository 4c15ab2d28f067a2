{#
  Money is stored in the raw tables as integer cents, which keeps sums exact.
  Marts show it as a two-decimal amount.
#}
{% macro cents_to_currency(cents_expression, scale=2) -%}
    cast(({{ cents_expression }}) / 100.0 as numeric(16, {{ scale }}))
{%- endmacro %}
