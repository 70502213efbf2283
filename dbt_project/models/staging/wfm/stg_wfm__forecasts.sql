with

source as (

    {{ deduplicate(source('wfm', 'wfm_forecasts'), key=['queue_id', 'interval_start'], latest_by='forecast_made_at') }}

),

renamed as (

    select
        queue_id,
        interval_start,
        interval_minutes,
        forecast_contacts,
        forecast_aht_seconds,
        forecast_made_at,

        _file_id,
        _loaded_at

    from source

)

select * from renamed
