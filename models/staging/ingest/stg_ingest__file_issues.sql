with

source as (
    select * from {{ source('ingest', 'file_issues') }}
),

renamed as (
    select
        file_path,
        file_sha256,
        attempted_at,
        -- Lines are numbered in the file; one line may have more than one issue.
        row_number() over (
            partition by file_sha256, attempted_at order by line_number, reason
        ) as issue_number,
        line_number,
        reason
    from source
)

select * from renamed
