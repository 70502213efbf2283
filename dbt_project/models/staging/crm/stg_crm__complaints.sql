with

source as (

    {{ deduplicate(source('crm', 'crm_complaints'), key=['complaint_id']) }}

),

renamed as (

    select
        complaint_id,
        nullif({{ ccq.trim_text('case_id') }}, '') as case_id,
        {{ hash_pii('customer_id') }} as customer_id_hash,
        nullif({{ ccq.trim_text('contact_id') }}, '') as contact_id,
        received_at,
        category,
        {{ ccq.upper_text(ccq.trim_text('severity')) }} as severity,

        _file_id,
        _loaded_at

    from source

)

select * from renamed
