{#-
    A readable merchant name from a raw bank description, for descriptions no lookup row knows:
    drops card-network noise (`PURCHASE AUTHORIZED ON 09/13`, `SQ *`, `TST*`), store and card
    numbers, and title-cases what is left. The raw description is always kept beside it.
-#}
{% macro clean_merchant_name(description) -%}
    nullif(
        array_to_string(
            list_transform(
                string_split(
                    trim(regexp_replace(
                        regexp_replace(
                            regexp_replace(
                                lower({{ description }}),
                                '^(purchase authorized on \d{1,2}/\d{1,2}|pos purchase|debit card purchase)\s*', ''
                            ),
                            '^(sq ?\*|tst ?\*|sp ?\*|pp ?\*|py ?\*)\s*', ''
                        ),
                        '(#\s*\d+|\b\d{3,}\b|\s+x\d{4}\b|\*+\d*)', ' ', 'g'
                    )),
                    ' '
                ),
                word -> upper(word[1]) || word[2:]
            ),
            ' '
        ),
        ''
    )
{%- endmacro %}
