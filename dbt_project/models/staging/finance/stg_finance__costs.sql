with

source as (

    {{ deduplicate(source('finance', 'finance_costs'), key=['period_month', 'site_id', 'cost_item']) }}

),

renamed as (

    select
        period_month,
        site_id,
        {{ ccq.upper_text(ccq.trim_text('cost_item')) }} as cost_item,
        amount,
        currency,

        _file_id,
        _loaded_at

    from source

)

select * from renamed
