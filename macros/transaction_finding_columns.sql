{#-
    The columns of rpt_data_quality that say which transaction a finding is about, read from a
    relation with fct_transactions' columns (`relation.` prefixes them, for a query that joins).
    The sheet's other columns are left out: the union by name makes them null.
-#}
{% macro transaction_finding_columns(relation='', related_txn_id=none) -%}
    {{ relation }}txn_id,
    {% if related_txn_id %}{{ related_txn_id }} as related_txn_id,{% endif %}
    {{ relation }}file_path,
    {{ relation }}transaction_date as finding_date,
    {{ relation }}payer_member_id,
    {{ relation }}description,
    {{ relation }}amount
{%- endmacro %}
