with

source as (

    {{ deduplicate(source('qa', 'qa_evaluation_items'), key=['evaluation_id', 'item_id']) }}

),

renamed as (

    select
        evaluation_id,
        item_id,
        nullif({{ ccq.trim_text('item_name') }}, '') as item_name,
        weight,
        is_critical,
        not_applicable,
        score,
        max_score,

        _file_id,
        _loaded_at

    from source

)

select * from renamed
