{#-
    Tables and views are replaced in place, in one transaction: drop what is there, create the
    new relation, commit. DuckDB's DDL is transactional, so a model that fails leaves the
    relation it had, as the stock materializations' create-rename-swap does; their extra
    statements and relation-cache updates cost ~50 ms a model, most of a small build's time.
    The project has no foreign keys, indexes or grants, which the stock ones also look after.
-#}
{% macro drop_in_this_transaction(relation) %}
    {%- if relation is not none -%}
        {#- auto_begin: the drop opens the transaction that creates and commits the new relation -#}
        {% call statement('drop_replaced_relation', auto_begin=True) -%}
            {{ get_drop_sql(relation) }}
        {%- endcall %}
        {% do adapter.cache_dropped(relation) %}
    {%- endif -%}
{% endmacro %}

{% macro commit_replaced_relation(target_relation) %}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do persist_docs(target_relation, model) %}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
{% endmacro %}

{% materialization table, adapter='duckdb', supported_languages=['sql', 'python'] %}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {% if model['language'] == 'python' %}
        {#- A Python model writes through a connection of its own, outside this transaction: it
            writes a table beside the model's, which then takes the model's place. -#}
        {%- set written_relation = make_intermediate_relation(target_relation) -%}
        {{ drop_relation_if_exists(load_cached_relation(written_relation)) }}
        {% call statement('main', language='python') -%}
            {{ create_table_as(False, written_relation, compiled_code, 'python') }}
        {%- endcall %}
        {{ drop_in_this_transaction(existing_relation) }}
        {% do adapter.rename_relation(written_relation, target_relation) %}
    {% else %}
        {{ drop_in_this_transaction(existing_relation) }}
        {% call statement('main') -%}
            {{ create_table_as(False, target_relation, compiled_code) }}
        {%- endcall %}
    {% endif %}
    {{ commit_replaced_relation(target_relation) }}
    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

{% materialization view, adapter='duckdb' %}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='view') -%}
    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ drop_in_this_transaction(existing_relation) }}
    {% call statement('main') -%}
        {{ get_create_view_as_sql(target_relation, sql) }}
    {%- endcall %}
    {{ commit_replaced_relation(target_relation) }}
    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
