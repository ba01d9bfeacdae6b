{#-
    The columns of rpt_data_quality that say which transaction a finding is about, read from a
    relation with fct_transactions' columns (`relation.` prefixes them, for a query that joins).
-#}
{% macro transaction_finding_columns(relation='', related_txn_id='null') -%}
    {{ relation }}txn_id,
    {{ related_txn_id }} as related_txn_id,
    {{ relation }}file_path,
    {{ relation }}transaction_date as finding_date,
    {{ relation }}payer_member_id,
    {{ relation }}description,
    {{ relation }}amount,
    cast(null as bigint) as bad_line_count
{%- endmacro %}
