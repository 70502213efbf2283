-- Published for the app and `ccq status`: every site, configured or registered from the data.
select site_id, site_name, time_zone, country_code, is_configured, configuration_note
from {{ ref('int_reference__sites') }}
