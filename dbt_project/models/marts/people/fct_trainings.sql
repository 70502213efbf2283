-- One row per course attendance, with the QA evidence on both sides of it: the training
-- effect is recomputed from summed parts (sum of effects / trainings with an effect).
with trainings as (

    select * from {{ ref('int_people__trainings') }}
    where ended_local_date is not null

),

params as (

    select * from {{ ref('people_parameters') }}

),

windows as (

    select
        trainings.*,
        params.training_effect_weeks,
        {{ dbt.dateadd('day', '-7 * params.training_effect_weeks', 'trainings.started_at') }} as before_from,
        {{ dbt.dateadd('day', '7 * params.training_effect_weeks', 'trainings.ended_at') }} as after_to
    from trainings
    left join params
        on trainings.ended_local_date between params.effective_from and params.effective_to

),

-- One QA score definition for the project: fct_qa_evaluations (weighted, not-applicable
-- items out, failed critical item = 0). Unscored evaluations carry no evidence.
evaluations as (

    select agent_id, evaluated_at, evaluation_score
    from {{ ref('fct_qa_evaluations') }}
    where is_scored = 1

),

qa_sides as (

    select
        windows.training_id,
        sum(case when evaluations.evaluated_at >= windows.before_from
                  and evaluations.evaluated_at < windows.started_at then 1 else 0 end) as qa_evaluations_before,
        sum(case when evaluations.evaluated_at >= windows.before_from
                  and evaluations.evaluated_at < windows.started_at then evaluations.evaluation_score else 0 end) as qa_score_sum_before,
        sum(case when evaluations.evaluated_at > windows.ended_at
                  and evaluations.evaluated_at <= windows.after_to then 1 else 0 end) as qa_evaluations_after,
        sum(case when evaluations.evaluated_at > windows.ended_at
                  and evaluations.evaluated_at <= windows.after_to then evaluations.evaluation_score else 0 end) as qa_score_sum_after
    from windows
    inner join evaluations
        on windows.agent_id = evaluations.agent_id
       and evaluations.evaluated_at >= windows.before_from
       and evaluations.evaluated_at <= windows.after_to
    group by windows.training_id

),

measured as (

    select
        windows.*,
        coalesce(qa_sides.qa_evaluations_before, 0) as qa_evaluations_before,
        coalesce(qa_sides.qa_score_sum_before, 0) as qa_score_sum_before,
        coalesce(qa_sides.qa_evaluations_after, 0) as qa_evaluations_after,
        coalesce(qa_sides.qa_score_sum_after, 0) as qa_score_sum_after
    from windows
    left join qa_sides
        on windows.training_id = qa_sides.training_id

),

organised as (

    -- The agent's team on the day the course ended; the latest roster if not employed that day.
    select
        measured.*,
        coalesce(agent_days.team_id, agents.team_id) as team_id,
        coalesce(agent_days.supervisor_id, agents.supervisor_id) as supervisor_id,
        coalesce(agent_days.site_id, agents.site_id) as site_id
    from measured
    left join {{ ref('int_people__agent_days') }} as agent_days
        on measured.agent_id = agent_days.agent_id
       and measured.ended_local_date = agent_days.local_date
    left join {{ ref('stg_hr__agents') }} as agents
        on measured.agent_id = agents.agent_id

)

select
    training_id,
    agent_id,
    team_id,
    supervisor_id,
    site_id,
    course_id,
    course_name,
    started_at,
    ended_at,
    ended_local_date as local_date,
    training_hours,
    is_completed,
    training_effect_weeks,
    qa_evaluations_before,
    qa_score_sum_before,
    qa_evaluations_after,
    qa_score_sum_after,
    case when qa_evaluations_before > 0 then qa_score_sum_before / qa_evaluations_before end as qa_score_before,
    case when qa_evaluations_after > 0 then qa_score_sum_after / qa_evaluations_after end as qa_score_after,
    case when is_completed = 1 and qa_evaluations_before > 0 and qa_evaluations_after > 0
         then 1 else 0 end as has_qa_effect,
    case when is_completed = 1 and qa_evaluations_before > 0 and qa_evaluations_after > 0
         then qa_score_sum_after / qa_evaluations_after - qa_score_sum_before / qa_evaluations_before
    end as qa_effect,
    -- Evaluations can still arrive for the after window until it closes: the effect of the
    -- period may change, so the period is provisional (certification reads this measure).
    case when is_completed = 1 and after_to > {{ ccq.ccq_now() }} then 1 else 0 end as is_effect_provisional,
    -- When a provisional effect becomes final: the app says "provisional until" this.
    case when is_completed = 1 and after_to > {{ ccq.ccq_now() }} then after_to end as effect_final_at
from organised
