-- How the rows of files that name no account were tied to an account of their owner by mirrored
-- rows (docs/rules.md#files-that-name-no-account), in words: what `balance run`, `status`,
-- `check` and Data_Quality say.
with

int_files_linked as (
    select * from {{ ref('int_files_linked') }}
),

stg_ingest__files as (
    select * from {{ ref('stg_ingest__files') }}
),

final as (
    select
        stg_ingest__files.file_path,
        int_files_linked.owner_member_id,
        int_files_linked.account_id,
        int_files_linked.account_label,
        int_files_linked.mirrored_rows,
        int_files_linked.file_rows,
        int_files_linked.mirrored_rows || ' of its ' || int_files_linked.file_rows
        || ' rows mirror ' || int_files_linked.account_label as link_reason
    from int_files_linked
    inner join stg_ingest__files on int_files_linked.file_sha256 = stg_ingest__files.file_sha256
)

select * from final
