-- Known answers from the UNSD correlation tables: every expected (version, code → HS2022 code)
-- link must exist in int_hs__code_map, and the principal HS2022 code must be the expected one.
--   845691 (HS2002, dry-etching machines)  → 848620 (HS2007 heading 8486 did not exist before)
--   854221 / 854229 (HS2002 digital / other monolithic ICs) → 854231, 854232, 854233, 854239
--   854140 (HS2017 photosensitive devices, LEDs) → split by HS2022 into 854141, 854142, 854143, 854149
-- and the gap links of hs_deleted_codes (issue #13), which must lead exactly to the expected codes:
--   300219 (HS2017 other blood fractions / immunological products; no row in UNSD's HS2022→HS2017
--   table) → 300212, 300213, 300214, 300215 (HS2022 subheading 3002.1), principal 300212
--   291636 (HS2007 binapacryl; no row in UNSD's HS2012→HS2007 table) → 291616 (hs5_hs3 conversion)
with

expected as (

    select * from (values
        ('H2', '845691', '848620', true),
        ('H2', '854311', '848620', true),
        ('H2', '901042', '848620', true),
        ('H2', '854221', '854231', false),
        ('H2', '854221', '854232', false),
        ('H2', '854221', '854233', false),
        ('H2', '854221', '854239', false),
        ('H2', '854229', '854231', false),
        ('H2', '854229', '854232', false),
        ('H2', '854229', '854233', false),
        ('H2', '854229', '854239', false),
        ('H5', '854140', '854141', false),
        ('H5', '854140', '854142', false),
        ('H5', '854140', '854143', false),
        ('H5', '854140', '854149', false),
        ('H6', '848620', '848620', true),
        ('H5', '300219', '300212', true),
        ('H5', '300219', '300213', false),
        ('H5', '300219', '300214', false),
        ('H5', '300219', '300215', false),
        ('H3', '291636', '291616', true)
    ) as t(hs_version, hs6, target_hs6, must_be_principal)

),

-- codes whose HS2022 targets must be exactly the expected ones
exact as (

    select * from (values ('H5', '300219'), ('H3', '291636')) as t(hs_version, hs6)

),

mapped as (

    select hs_version, hs6, target_hs6, is_principal
    from {{ ref('int_hs__code_map') }}
    where target_version = 'H6'

)

select e.*, m.is_principal
from expected as e
left join mapped as m
    on m.hs_version = e.hs_version
    and m.hs6 = e.hs6
    and m.target_hs6 = e.target_hs6
where m.target_hs6 is null
   or (e.must_be_principal and not m.is_principal)

union all

-- an unexpected extra target of a code that must map exactly
select m.hs_version, m.hs6, m.target_hs6, false as must_be_principal, m.is_principal
from mapped as m
semi join exact as x
    on x.hs_version = m.hs_version
    and x.hs6 = m.hs6
anti join expected as e
    on e.hs_version = m.hs_version
    and e.hs6 = m.hs6
    and e.target_hs6 is not distinct from m.target_hs6
