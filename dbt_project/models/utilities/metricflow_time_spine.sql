-- MetricFlow's calendar: one row per day, wide enough for historical data sets (the Anonymous
-- Bank's 1999) and years of future refreshes.
{{ config(materialized='table') }}

select day as date_day
from ({{ ccq.day_spine("cast('1990-01-01' as date)", "cast('2050-12-31' as date)", digits=5) }}) as spine
