-- The scorecard's single table: every KPI value with its parts, the target in force, status
-- and certification. Values are numerator / denominator of summed additive parts (or the
-- count itself), never an average of averages.
{{ config(tags=['certification']) }}

with parts as (

    select * from {{ ref('int_kpi_parts__queues') }}

),

definitions as (

    select * from {{ ref('kpi_definitions') }}

),

targets as (

    select * from {{ ref('kpi_targets') }}

),

valued as (

    select
        parts.*,
        definitions.unit,
        case when definitions.unit = 'contacts' then parts.numerator
             else parts.numerator / nullif(parts.denominator, 0) end as value
    from parts
    join definitions on parts.kpi = definitions.kpi

),

-- A target for the exact scope beats the centre-wide one; the one in force on the period's first day applies.
targeted as (

    select
        valued.*,
        targets.direction,
        targets.target,
        targets.warning,
        targets.owner_role,
        targets.first_action,
        row_number() over (
            partition by valued.kpi, valued.grain, valued.period_start, valued.period_start_utc, valued.scope_type, valued.scope_id
            order by case when targets.scope_type = 'all' then 1 else 0 end, targets.effective_from desc
        ) as target_rank
    from valued
    left join targets
        on valued.kpi = targets.kpi
        and cast(valued.period_start as date) >= targets.effective_from
        and cast(valued.period_start as date) <= targets.effective_to
        and (targets.scope_type = 'all'
             or (targets.scope_type = valued.scope_type and targets.scope_id = valued.scope_id))

)

select
    targeted.kpi,
    targeted.grain,
    targeted.period_start,
    targeted.period_start_utc,
    targeted.scope_type,
    targeted.scope_id,
    targeted.numerator,
    targeted.denominator,
    targeted.value,
    targeted.unit,
    targeted.target,
    targeted.warning,
    targeted.direction,
    case
        when targeted.value is null or targeted.target is null then null
        when targeted.direction = 'higher_is_better' then
            case when targeted.value >= targeted.target then 'met'
                 when targeted.value >= targeted.warning then 'at_risk'
                 else 'missed' end
        else
            case when targeted.value <= targeted.target then 'met'
                 when targeted.value <= targeted.warning then 'at_risk'
                 else 'missed' end
    end as status,
    targeted.owner_role,
    targeted.first_action,
    certification.certified,
    certification.certification_reason,
    certification.as_of,
    certification.data_through
from targeted
left join {{ ref('kpi_certification') }} as certification
    on targeted.kpi = certification.kpi
    and targeted.grain = certification.grain
    and targeted.period_start = certification.period_start
    and targeted.scope_type = certification.scope_type
    and targeted.scope_id = certification.scope_id
    and coalesce(targeted.period_start_utc, targeted.period_start) = coalesce(certification.period_start_utc, certification.period_start)
where targeted.target_rank = 1
