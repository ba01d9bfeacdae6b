-- What waits for the user in Queue_Review (docs/rules.md#the-review-queue): every undecided expense
-- and every suspected duplicate, newest first, with a suggestion and its reason.
with

fct_transactions as (
    select * from {{ ref('fct_transactions') }}
),

stg_household__members as (
    select * from {{ ref('stg_household__members') }}
),

questions as (
    select
        *,
        case when is_suspected_duplicate then 'duplicate' else 'sharing' end as question
    from fct_transactions
    where is_pending_review or is_suspected_duplicate
),

merchant_history as (
    -- How the household decided earlier expenses at the same merchant.
    select
        merchant,
        sharing,
        count(*) as decided_count,
        sum(count(*)) over (partition by merchant) as merchant_decided_count
    from fct_transactions
    where kind = 'expense' and sharing in ('shared', 'personal', 'split')
    group by merchant, sharing
),

usual_decision as (
    select *
    from merchant_history
    qualify row_number() over (partition by merchant order by decided_count desc, sharing asc) = 1
),

final as (
    select
        questions.txn_id,
        questions.question,
        questions.transaction_date,
        stg_household__members.display_name as payer,
        questions.account_label as account,
        questions.description,
        questions.merchant,
        questions.category,
        questions.cost as amount,
        case
            when questions.question = 'duplicate'
                then 'D: ' || questions.duplicate_reason || ' (copy of ' || questions.duplicate_of_txn_id || ')'
            when questions.sharing_issue is not null
                then 'fix: ' || questions.sharing_issue
            when usual_decision.sharing is not null
                then
                    case usual_decision.sharing when 'shared' then 'Y' when 'personal' then 'N' else 'S' end
                    || ': ' || usual_decision.decided_count || ' of ' || usual_decision.merchant_decided_count
                    || ' earlier at ' || questions.merchant || ' were ' || usual_decision.sharing
        end as suggestion
    from questions
    inner join stg_household__members
        on questions.payer_member_id = stg_household__members.member_id
    left join usual_decision on questions.merchant = usual_decision.merchant
)

select * from final
