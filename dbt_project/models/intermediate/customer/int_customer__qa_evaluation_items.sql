-- One row per form item scored in a QA evaluation, with the evaluation's agent, local day and
-- the pass threshold in force, judged here once so the evaluation score and the failed-item
-- Pareto use the same verdict.
with items as (

    select * from {{ ref('stg_qa__evaluation_items') }}

),

evaluations as (

    select * from {{ ref('stg_qa__evaluations') }}

),

agents as (

    select agent_id, team_id, supervisor_id, site_id from {{ ref('stg_hr__agents') }}

),

placed as (

    select
        evaluations.evaluation_id,
        evaluations.contact_id,
        evaluations.agent_id,
        agents.team_id,
        agents.supervisor_id,
        agents.site_id,
        evaluations.form_id,
        evaluations.evaluated_at,
        -- An agent missing from the roster has no site: the UTC day.
        cast({{ ccq.utc_to_local('evaluations.evaluated_at', ccq.calendar_time_zone('sites.time_zone')) }} as date) as evaluated_date_local
    from evaluations
    left join agents
        on evaluations.agent_id = agents.agent_id
    left join {{ ref('int_reference__sites') }} as sites
        on agents.site_id = sites.site_id

),

-- A form's own parameters win over the `*` row.
thresholds as (

    select
        placed.evaluation_id,
        params.pass_threshold,
        row_number() over (
            partition by placed.evaluation_id
            order by case when params.form_id = '*' then 1 else 0 end
        ) as preference
    from placed
    inner join {{ ref('qa_parameters') }} as params
        on (params.form_id = placed.form_id or params.form_id = '*')
        and placed.evaluated_date_local >= params.effective_from
        and placed.evaluated_date_local <= params.effective_to

),

judged as (

    select
        placed.*,
        thresholds.pass_threshold as qa_pass_threshold,
        items.item_id,
        coalesce(items.item_name, items.item_id) as item_name,
        items.weight,
        items.is_critical,
        items.not_applicable,
        items.score,
        items.max_score,
        -- An item with no points to give cannot be scored: it weighs like not applicable.
        case when items.not_applicable or items.max_score <= 0 then 0 else 1 end as is_applicable,
        case when not items.not_applicable and items.max_score > 0
             then coalesce(items.score, 0) / items.max_score end as score_share
    from items
    inner join placed
        on items.evaluation_id = placed.evaluation_id
    left join thresholds
        on placed.evaluation_id = thresholds.evaluation_id
        and thresholds.preference = 1

)

select
    evaluation_id,
    item_id,
    item_name,
    contact_id,
    agent_id,
    team_id,
    supervisor_id,
    site_id,
    form_id,
    evaluated_at,
    evaluated_date_local,
    qa_pass_threshold,
    weight,
    is_critical,
    is_applicable,
    score,
    max_score,
    score_share,
    -- Not applicable never fails; an applicable item left unscored counts as no points.
    -- Compared as points (100 x score vs threshold x max) so 9/10 against 90 is not lost to rounding.
    case when is_applicable = 1
              and 100 * coalesce(score, 0) < qa_pass_threshold * max_score then 1 else 0 end as is_failed,
    case when is_applicable = 1 and is_critical
              and 100 * coalesce(score, 0) < qa_pass_threshold * max_score then 1 else 0 end as is_failed_critical
from judged
