-- Published for the app and `ccq status`: every queue the warehouse measures, configured or
-- registered from the data, with what is missing.
select
    queues.queue_id,
    queues.queue_name,
    queues.queue_name_zh,
    queues.call_type,
    queues.direction,
    queues.channel,
    queues.site_id,
    sites.time_zone,
    queues.is_configured,
    queues.configuration_note
from {{ ref('int_reference__queues') }} as queues
left join {{ ref('int_reference__sites') }} as sites on queues.site_id = sites.site_id
