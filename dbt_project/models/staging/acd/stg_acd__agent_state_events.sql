with

source as (

    {{ deduplicate(source('acd', 'agent_state_events'), key=['event_id']) }}

),

renamed as (

    select
        event_id,
        agent_id,
        event_at,
        upper(trim(state)) as state,
        nullif(upper(trim(reason)), '') as reason,

        _file_id,
        _loaded_at,
        _line_no

    from source

)

select * from renamed
