with

source as (

    {{ deduplicate(source('qa', 'qa_evaluations'), key=['evaluation_id']) }}

),

renamed as (

    select
        evaluation_id,
        contact_id,
        agent_id,
        nullif({{ ccq.trim_text('evaluator_id') }}, '') as evaluator_id,
        form_id,
        evaluated_at,

        _file_id,
        _loaded_at

    from source

)

select * from renamed
