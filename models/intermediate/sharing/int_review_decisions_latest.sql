-- The review answers in force per transaction: the latest line per question wins
-- (docs/rules.md#review-answers). The sharing answer (Y/N/S) of a row that is a duplicate —
-- certain, or confirmed with D — moves to its survivor, unless the survivor has its own. An answer
-- given before a row became a suspected duplicate answers only the sharing question: the D question
-- is still asked — except in journals written by earlier versions (lines naming a legacy id), where
-- Y/N/S on a suspect meant "not a duplicate", and still does. A decision whose transaction does not
-- exist is kept and flagged as an orphan.
with

int_review_decisions_targeted as (
    select * from {{ ref('int_review_decisions_targeted') }}
),

int_duplicates_matched as (
    select * from {{ ref('int_duplicates_matched') }}
),

latest_per_question as (
    select *
    from int_review_decisions_targeted
    where is_latest_for_question
),

duplicate_answers as (
    select
        txn_id,
        decided_txn_id,
        sharing as duplicate_answer,
        decided_at,
        journal_line,
        is_orphan
    from latest_per_question
    where question = 'duplicate'
),

survivors as (
    -- Where a duplicate's sharing answer goes: its survivor, once it is surely a duplicate.
    select
        int_duplicates_matched.txn_id,
        int_duplicates_matched.duplicate_of_txn_id as survivor_txn_id
    from int_duplicates_matched
    left join duplicate_answers on int_duplicates_matched.txn_id = duplicate_answers.txn_id
    where
        not int_duplicates_matched.is_suspected
        or duplicate_answers.duplicate_answer = 'duplicate'
),

legacy_not_duplicates as (
    -- Earlier versions read Y/N/S on a suspect as "not a duplicate" (see above).
    select latest_per_question.txn_id
    from latest_per_question
    inner join int_duplicates_matched
        on latest_per_question.txn_id = int_duplicates_matched.txn_id
    where
        latest_per_question.question = 'sharing'
        and latest_per_question.names_legacy_id
        and int_duplicates_matched.is_suspected
),

sharing_answers as (
    select
        coalesce(survivors.survivor_txn_id, latest_per_question.txn_id) as txn_id,
        survivors.survivor_txn_id is not null as is_moved_from_duplicate,
        latest_per_question.decided_txn_id,
        latest_per_question.sharing,
        latest_per_question.payer_share_pct,
        latest_per_question.policy,
        latest_per_question.note,
        latest_per_question.decided_at,
        latest_per_question.journal_line,
        latest_per_question.is_orphan
    from latest_per_question
    left join survivors on latest_per_question.txn_id = survivors.txn_id
    where latest_per_question.question = 'sharing'
),

sharing_in_force as (
    -- The survivor's own answer first; among moved ones, the latest.
    select *
    from sharing_answers
    qualify row_number() over (
        partition by txn_id
        order by is_moved_from_duplicate asc, journal_line desc
    ) = 1
),

final as (
    select
        coalesce(sharing_in_force.txn_id, duplicate_answers.txn_id) as txn_id,
        coalesce(sharing_in_force.decided_txn_id, duplicate_answers.decided_txn_id)
            as decided_txn_id,
        sharing_in_force.sharing,
        sharing_in_force.payer_share_pct,
        sharing_in_force.policy,
        sharing_in_force.note,
        coalesce(sharing_in_force.decided_at, duplicate_answers.decided_at) as decided_at,
        coalesce(sharing_in_force.journal_line, duplicate_answers.journal_line) as journal_line,
        coalesce(sharing_in_force.is_moved_from_duplicate, false) as is_moved_from_duplicate,
        coalesce(
            duplicate_answers.duplicate_answer,
            case when legacy_not_duplicates.txn_id is not null then 'not_duplicate' end
        ) as duplicate_answer,
        coalesce(sharing_in_force.is_orphan, duplicate_answers.is_orphan) as is_orphan
    from sharing_in_force
    full outer join duplicate_answers on sharing_in_force.txn_id = duplicate_answers.txn_id
    left join legacy_not_duplicates
        on coalesce(sharing_in_force.txn_id, duplicate_answers.txn_id) = legacy_not_duplicates.txn_id
)

select * from final
