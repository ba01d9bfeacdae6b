with

source as (
    select * from {{ source('ingest', 'file_attempts') }}
),

renamed as (
    select
        file_path,
        file_sha256,
        attempted_at,
        status as attempt_status,
        schema_id,
        reason
    from source
)

select * from renamed
