-- Invariant 1 (docs/rules.md#invariants): for every loaded file, rows read = rows loaded + rows
-- skipped by declared rules, and the rows loaded are exactly the rows staging holds for that file.
with

stg_ingest__files as (
    select * from {{ ref('stg_ingest__files') }}
),

stg_ingest__transactions as (
    select * from {{ ref('stg_ingest__transactions') }}
),

staged_rows as (
    select
        file_sha256,
        count(*) as rows_staged
    from stg_ingest__transactions
    group by file_sha256
),

final as (
    select
        stg_ingest__files.file_path,
        stg_ingest__files.rows_read,
        stg_ingest__files.rows_loaded,
        stg_ingest__files.rows_skipped,
        coalesce(staged_rows.rows_staged, 0) as rows_staged
    from stg_ingest__files
    left join staged_rows on stg_ingest__files.file_sha256 = staged_rows.file_sha256
    where
        stg_ingest__files.rows_read <> stg_ingest__files.rows_loaded + stg_ingest__files.rows_skipped
        or stg_ingest__files.rows_loaded <> coalesce(staged_rows.rows_staged, 0)
)

select * from final
