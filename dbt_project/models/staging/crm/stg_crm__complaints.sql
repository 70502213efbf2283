with

source as (

    {{ deduplicate(source('crm', 'crm_complaints'), key=['complaint_id']) }}

),

renamed as (

    select
        complaint_id,
        nullif(trim(case_id), '') as case_id,
        {{ hash_pii('customer_id') }} as customer_id_hash,
        nullif(trim(contact_id), '') as contact_id,
        received_at,
        category,
        upper(trim(severity)) as severity,

        _file_id,
        _loaded_at

    from source

)

select * from renamed
