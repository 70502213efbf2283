-- Site x local day: the cost of running the site that day and the contacts it handled, as
-- additive parts, so cost per contact is recomputed from sums at day, week and month.
with agent_days as (

    select agent_id, local_date, site_id from {{ ref('int_people__agent_days') }}

),

bounds as (

    select min(local_date) as first_day, max(local_date) as last_day
    from agent_days

),

days as (

    {{ ccq.day_spine('(select first_day from bounds)', '(select last_day from bounds)') }}

),

finance as (

    select * from {{ ref('stg_finance__costs') }}

),

rates as (

    select * from {{ ref('cost_rates') }}

),

cost_sites as (

    select site_id from agent_days
    union
    select site_id from finance
    union
    select site_id from rates

),

site_days as (

    select
        cost_sites.site_id,
        days.day as local_date,
        cast({{ dbt.date_trunc('month', 'days.day') }} as date) as month_start
    from cost_sites
    cross join days

),

paid as (

    -- Scheduled seconds in paid activities (lunch is unpaid), at the site the agent works at
    -- on the shift's schedule_date, so a night shift crossing midnight stays whole. Shifts on
    -- days the agent is not employed are not paid.
    select
        agent_days.site_id,
        agent_days.local_date,
        sum(schedules.duration_seconds) as paid_seconds
    from {{ ref('stg_wfm__schedules') }} as schedules
    inner join {{ ref('schedule_activities') }} as activities
        on schedules.activity = activities.activity
    inner join agent_days
        on schedules.agent_id = agent_days.agent_id
       and schedules.schedule_date = agent_days.local_date
    where activities.is_paid
    group by agent_days.site_id, agent_days.local_date

),

handled as (

    -- A contact is handled where the agent who handled it works (the site that bears the
    -- cost); the queue's site only when the agent is not on the roster that day.
    select
        coalesce(agent_days.site_id, legs.site_id) as site_id,
        cast(legs.entered_at_local as date) as local_date,
        sum(legs.is_handled) as handled_contacts
    from {{ ref('int_contacts__queue_legs') }} as legs
    left join agent_days
        on legs.agent_id = agent_days.agent_id
       and cast(legs.entered_at_local as date) = agent_days.local_date
    where legs.is_handled = 1
      and legs.entered_at_local is not null
    group by coalesce(agent_days.site_id, legs.site_id), cast(legs.entered_at_local as date)

),

priced as (

    -- The finance extract is the authority for its month; the seed rate in force on the day
    -- stands in only for a line finance has not delivered.
    select
        site_days.*,
        {{ dbt.datediff('site_days.month_start', dbt.dateadd('month', 1, 'site_days.month_start'), 'day') }} as days_in_month,
        coalesce(finance_hourly.amount, rate_hourly.amount) as hourly_loaded_cost,
        coalesce(finance_fixed.amount, rate_fixed.amount) as fixed_cost_month,
        case when finance_hourly.amount is not null then 'finance'
             when rate_hourly.amount is not null then 'seed' end as hourly_cost_source,
        case when finance_fixed.amount is not null then 'finance'
             when rate_fixed.amount is not null then 'seed' end as fixed_cost_source,
        coalesce(finance_hourly.currency, finance_fixed.currency, rate_hourly.currency, rate_fixed.currency) as currency
    from site_days
    left join finance as finance_hourly
        on site_days.site_id = finance_hourly.site_id
       and site_days.month_start = finance_hourly.period_month
       and finance_hourly.cost_item = 'AGENT_HOURLY_LOADED'
    left join finance as finance_fixed
        on site_days.site_id = finance_fixed.site_id
       and site_days.month_start = finance_fixed.period_month
       and finance_fixed.cost_item = 'FIXED'
    left join rates as rate_hourly
        on site_days.site_id = rate_hourly.site_id
       and site_days.local_date between rate_hourly.effective_from and rate_hourly.effective_to
       and rate_hourly.cost_item = 'AGENT_HOURLY_LOADED'
    left join rates as rate_fixed
        on site_days.site_id = rate_fixed.site_id
       and site_days.local_date between rate_fixed.effective_from and rate_fixed.effective_to
       and rate_fixed.cost_item = 'FIXED'

),

costed as (

    select
        priced.site_id,
        priced.local_date,
        priced.days_in_month,
        priced.currency,
        priced.hourly_cost_source,
        priced.fixed_cost_source,
        priced.hourly_loaded_cost,
        priced.fixed_cost_month,
        coalesce(paid.paid_seconds, 0) as paid_seconds,
        coalesce(paid.paid_seconds, 0) / 3600.0 as paid_hours,
        coalesce(paid.paid_seconds, 0) / 3600.0 * priced.hourly_loaded_cost as labour_cost,
        -- A month's fixed cost accrues evenly over its calendar days, so a day, a week across
        -- two months and a month to date each carry their own share.
        priced.fixed_cost_month / priced.days_in_month as fixed_cost,
        coalesce(handled.handled_contacts, 0) as handled_contacts
    from priced
    left join paid
        on priced.site_id = paid.site_id
       and priced.local_date = paid.local_date
    left join handled
        on priced.site_id = handled.site_id
       and priced.local_date = handled.local_date

)

select
    *,
    labour_cost + fixed_cost as total_cost
from costed
-- A site without a cost line or any activity on the day has nothing to report.
where fixed_cost_month is not null
   or hourly_loaded_cost is not null
   or paid_seconds > 0
   or handled_contacts > 0
