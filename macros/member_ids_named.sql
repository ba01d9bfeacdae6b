{#-
    The member_ids whose aliases (household/members.csv, a regex) a text names as whole words,
    as a list. `members` are the rows of member_id and alias, read by the model with rows_of, so
    each alias is a constant regex here, compiled once (macros/rows_of.sql).
-#}
{% macro member_ids_named(text_expression, members) -%}
    list_filter([
    {%- for member in members %}
        case
            when regexp_matches({{ text_expression }}, {{ sql_string('\\b(' ~ member['alias'] ~ ')\\b') }}, 'i')
                then {{ sql_string(member['member_id']) }}
        end{{ ',' if not loop.last }}
    {%- endfor %}
    ], named -> named is not null)
{%- endmacro %}
