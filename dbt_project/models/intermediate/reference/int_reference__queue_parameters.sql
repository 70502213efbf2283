-- The effective-dated definition parameters of every queue: seeds/queue_parameters.csv, and for
-- a queue without any row there (an unconfigured queue, or a configured one nobody gave
-- parameters) the defaults of var queue_defaults, in force for all time.
{%- set defaults = var('queue_defaults') %}

select queue_id, effective_from, effective_to, sl_threshold_seconds, sl_variant, short_abandon_seconds,
    fcr_window_days, occupancy_cap, erlang_model, patience_window_days
from {{ ref('queue_parameters') }}

union all

select
    queues.queue_id,
    cast('2000-01-01' as date) as effective_from,
    cast('9999-12-31' as date) as effective_to,
    {{ defaults.sl_threshold_seconds }} as sl_threshold_seconds,
    '{{ defaults.sl_variant }}' as sl_variant,
    {{ defaults.short_abandon_seconds }} as short_abandon_seconds,
    {{ defaults.fcr_window_days }} as fcr_window_days,
    cast({{ defaults.occupancy_cap }} as double) as occupancy_cap,
    '{{ defaults.erlang_model }}' as erlang_model,
    {{ defaults.patience_window_days }} as patience_window_days
from {{ ref('int_reference__queues') }} as queues
where queues.queue_id not in (select queue_id from {{ ref('queue_parameters') }})
