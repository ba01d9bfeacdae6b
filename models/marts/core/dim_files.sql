-- Every loaded export: where it came from, how it was read, and how many of its rows loaded.
with

stg_ingest__files as (
    select * from {{ ref('stg_ingest__files') }}
),

final as (
    select
        file_sha256,
        file_path,
        schema_id,
        inbox_member_id,
        rows_read,
        rows_loaded,
        rows_skipped,
        loaded_at
    from stg_ingest__files
)

select * from final
