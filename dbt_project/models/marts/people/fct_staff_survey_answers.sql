-- One row per answer of the anonymous staff survey. The survey identifies teams, never
-- people, so the finest scope is the team.
select
    response_id,
    question_id,
    team_id,
    site_id,
    survey_date as local_date,
    score,
    -- The survey scale is 1-5 (source contract): the top two boxes are 4 and 5.
    case when score >= 4 then 1 else 0 end as is_top_two_box
from {{ ref('stg_hr__staff_survey_answers') }}
where score is not null
