with

source as (
    select * from {{ source('ingest', 'files') }}
),

renamed as (
    select
        file_sha256,
        file_path,
        schema_id,
        inbox_member_id,
        encoding,
        delimiter,
        rows_read,
        rows_loaded,
        rows_skipped,
        rows_skipped_by_reason,
        amount_cents_total,
        loaded_at
    from source
)

select * from renamed
