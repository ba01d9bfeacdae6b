{#-
    The SQL condition under which one sharing rule (a row read with rows_of) matches a row of
    int_transactions_enriched (docs/rules.md#sharing-rules): its regexes, case-insensitive, as
    constants; `member` as a whole; `min_cost` and `max_cost` inclusive on |cost|. A rule with no
    conditions matches all.
-#}
{% macro sharing_rule_conditions(rule) -%}
    {%- set conditions = [] -%}
    {%- set searched = {
        'merchant_pattern': 'merchant',
        'category_pattern': 'category',
        'description_pattern': 'description',
        'account_pattern': 'coalesce(account_label, account_text)',
    } -%}
    {%- for pattern_column, value_sql in searched.items() if rule[pattern_column] is not none -%}
        {%- do conditions.append(
            "regexp_matches(" ~ value_sql ~ ", " ~ sql_string(rule[pattern_column]) ~ ", 'i')"
        ) -%}
    {%- endfor -%}
    {%- if rule['member_pattern'] is not none -%}
        {%- do conditions.append(
            "regexp_full_match(owner_member_id, " ~ sql_string(rule['member_pattern']) ~ ", 'i')"
        ) -%}
    {%- endif -%}
    {%- if rule['min_cost'] is not none -%}
        {%- do conditions.append("abs(cost_cents) >= " ~ ((rule['min_cost'] * 100) | int)) -%}
    {%- endif -%}
    {%- if rule['max_cost'] is not none -%}
        {%- do conditions.append("abs(cost_cents) <= " ~ ((rule['max_cost'] * 100) | int)) -%}
    {%- endif -%}
    {{ conditions | join(' and ') if conditions else 'true' }}
{%- endmacro %}
