-- One row per QA evaluation with its score out of 100. Scoring rules (kpis.md): items not
-- applicable are left out of both the points and the weights; one failed critical item sets
-- the evaluation to 0 whatever the other items scored.
with items as (

    select * from {{ ref('int_customer__qa_evaluation_items') }}

),

evaluations as (

    select
        evaluation_id,
        max(contact_id) as contact_id,
        max(agent_id) as agent_id,
        max(team_id) as team_id,
        max(supervisor_id) as supervisor_id,
        max(site_id) as site_id,
        max(form_id) as form_id,
        max(evaluated_at) as evaluated_at,
        max(evaluated_date_local) as evaluated_date_local,
        max(qa_pass_threshold) as qa_pass_threshold,
        count(*) as items,
        sum(is_applicable) as applicable_items,
        sum(is_failed) as failed_items,
        sum(is_failed_critical) as failed_critical_items,
        sum(case when is_applicable = 1 then weight else 0 end) as applicable_weight,
        sum(case when is_applicable = 1 then weight * score_share else 0 end) as weighted_points
    from items
    group by evaluation_id

),

scored as (

    select
        evaluations.*,
        -- Nothing applicable, or only weightless items: no score, and out of both QA KPIs.
        case when applicable_weight > 0 then 100 * weighted_points / applicable_weight end as weighted_score
    from evaluations

)

select
    evaluation_id,
    contact_id,
    agent_id,
    team_id,
    supervisor_id,
    site_id,
    form_id,
    evaluated_at,
    evaluated_date_local,
    qa_pass_threshold,
    items,
    applicable_items,
    failed_items,
    failed_critical_items,
    weighted_score,
    case when weighted_score is null then null
         when failed_critical_items > 0 then 0
         else weighted_score end as evaluation_score,
    case when weighted_score is null then 0 else 1 end as is_scored,
    case when weighted_score is not null and failed_critical_items = 0
              and weighted_score >= qa_pass_threshold then 1 else 0 end as is_passed
from scored
