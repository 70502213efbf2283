with

source as (

    {{ deduplicate(source('crm', 'crm_interactions'), key=['interaction_id']) }}

),

renamed as (

    select
        interaction_id,
        case_id,
        contact_id,
        {{ hash_pii('customer_id') }} as customer_id_hash,
        agent_id,
        created_at,
        contact_reason,
        upper(trim(wrap_up_code)) as wrap_up_code,

        _file_id,
        _loaded_at

    from source

)

select * from renamed
