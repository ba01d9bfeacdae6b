-- One row per txn_id: the same transaction in overlapping downloads of one account (same schema,
-- owner, facts and occurrence) is one transaction; the first loaded copy carries the lineage.
with

stg_ingest__transactions as (
    select * from {{ ref('stg_ingest__transactions') }}
),

collapsed as (
    select
        *,
        count(*) over (partition by txn_id) as loaded_copies
    from stg_ingest__transactions
    qualify row_number() over (
        partition by txn_id order by loaded_at, file_path, line_number
    ) = 1
)

select * from collapsed
