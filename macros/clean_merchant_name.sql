{#-
    A readable merchant name from a raw bank description, for descriptions no lookup row knows.
    The rules, in order (docs/merchants.md lists them with examples):
      1. drop a leading card-network phrase: `PURCHASE AUTHORIZED ON 09/13`, `POS PURCHASE`,
         `DEBIT CARD PURCHASE`, `CHECKCARD 0913`, `RECURRING PAYMENT`;
      2. drop a leading processor prefix: `SQ *`, `TST*`, `SP *`, `PP*`, `PY *`;
      3. drop store and card numbers: `#1234`, runs of 3+ digits, `x1234`, `*1234`;
      4. drop dashes and slashes left standing alone, and squeeze the spaces;
      5. capitalise each word.
    The raw description is always kept beside it.
-#}
{% macro clean_merchant_name(description) -%}
    nullif(
        array_to_string(
            list_transform(
                string_split(
                    trim(regexp_replace(
                        regexp_replace(
                            regexp_replace(
                                regexp_replace(
                                    regexp_replace(
                                        lower({{ description }}),
                                        '^(purchase authorized on \d{1,2}/\d{1,2}|pos purchase|debit card purchase|checkcard( \d{4})?|recurring payment)\s*',
                                        ''
                                    ),
                                    '^(sq|tst|sp|pp|py) ?\*\s*', ''
                                ),
                                '(#\s*\d+|\d{3,}|\bx\d{4}\b|\*+\d*)', ' ', 'g'
                            ),
                            '(^|\s)[-/.]+(\s+[-/.]+)*(\s|$)', ' ', 'g'
                        ),
                        '\s+', ' ', 'g'
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
