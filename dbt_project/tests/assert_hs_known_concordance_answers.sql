-- Known answers from the UNSD correlation tables: every expected (version, code → HS2022 code)
-- link must exist in int_hs_code_map, and the principal HS2022 code must be the expected one.
--   845691 (HS2002, dry-etching machines)  → 848620 (HS2007 heading 8486 did not exist before)
--   854221 / 854229 (HS2002 digital / other monolithic ICs) → 854231, 854232, 854233, 854239
--   854140 (HS2017 photosensitive devices, LEDs) → split by HS2022 into 854141, 854142, 854143, 854149
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
        ('H6', '848620', '848620', true)
    ) as t(hs_version, hs6, target_hs6, must_be_principal)

),

mapped as (

    select hs_version, hs6, target_hs6, is_principal
    from {{ ref('int_hs_code_map') }}
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
