-- Reconciliation, one row per comparison × month × HS6 × reporter × partner × flow (monthly,
-- bilateral rows only). Two kinds of comparison, both as full outer joins so a figure missing on one
-- side shows up with a null:
--   <national source>_vs_comtrade: a national source against Comtrade as reported by the same country;
--   mirror_<importer source>_imports_vs_<exporter source>_exports: one country's imports from the other
--   against the other's exports to it (e.g. Korea Customs imports from Japan vs Japan MOF exports to Korea).
-- gap_usd = national_value_usd − benchmark_value_usd; gap_pct = gap_usd / benchmark_value_usd × 100.
--
-- A table rebuilt whole at every build, not incremental by slice (macros/replace_slices.sql): every row
-- is a full outer join against the national sources' rows (a Comtrade row shows up with a null national
-- side only when no national row matches it), which fct_trade_flows re-derives at every build with no
-- record of what changed, and the Comtrade side is chosen by national_reporters, a set over all years.
-- So any build may change any row: the slice would be the whole table.
with

flows as (

    select * from {{ ref('fct_trade_flows') }}
    where freq_code = 'M' and not is_aggregate

),

national as (

    select * from flows where source <> 'comtrade'

),

national_reporters as (

    select distinct source, reporter_code from national

),

comtrade_for as (

    select nr.source as national_source, f.*
    from flows as f
    inner join national_reporters as nr on nr.reporter_code = f.reporter_code
    where f.source = 'comtrade'

),

vs_comtrade as (

    select
        coalesce(n.source, c.national_source) || '_vs_comtrade' as comparison,
        coalesce(n.period_key, c.period_key) as period_key,
        coalesce(n.ref_year, c.ref_year) as ref_year,
        coalesce(n.ref_month, c.ref_month) as ref_month,
        coalesce(n.hs6, c.hs6) as hs6,
        coalesce(n.hs_version, c.hs_version) as hs_version,
        coalesce(n.reporter_code, c.reporter_code) as reporter_code,
        coalesce(n.partner_code, c.partner_code) as partner_code,
        coalesce(n.flow_code, c.flow_code) as flow_code,
        coalesce(n.source, c.national_source) as national_source,
        n.value_usd as national_value_usd,
        n.valuation as national_valuation,
        'comtrade' as benchmark_source,
        c.reporter_code as benchmark_reporter_code,
        c.flow_code as benchmark_flow_code,
        c.value_usd as benchmark_value_usd,
        c.valuation as benchmark_valuation,
        coalesce(n.origin, c.origin) as origin
    from national as n
    full outer join comtrade_for as c
        on c.national_source = n.source
        and c.period_key = n.period_key
        and c.reporter_code = n.reporter_code
        and c.partner_code = n.partner_code
        and c.flow_code = n.flow_code
        and c.hs6 = n.hs6

),

-- Flows between two economies that both have a national source.
cross_flows as (

    select n.*, nr.source as counterpart_source
    from national as n
    inner join national_reporters as nr on nr.reporter_code = n.partner_code and nr.source <> n.source

),

mirror as (

    select
        'mirror_' || coalesce(i.source, x.counterpart_source) || '_imports_vs_'
            || coalesce(x.source, i.counterpart_source) || '_exports' as comparison,
        coalesce(i.period_key, x.period_key) as period_key,
        coalesce(i.ref_year, x.ref_year) as ref_year,
        coalesce(i.ref_month, x.ref_month) as ref_month,
        coalesce(i.hs6, x.hs6) as hs6,
        coalesce(i.hs_version, x.hs_version) as hs_version,
        coalesce(i.reporter_code, x.partner_code) as reporter_code,
        coalesce(i.partner_code, x.reporter_code) as partner_code,
        'M' as flow_code,
        coalesce(i.source, x.counterpart_source) as national_source,
        i.value_usd as national_value_usd,
        'CIF' as national_valuation,
        coalesce(x.source, i.counterpart_source) as benchmark_source,
        coalesce(x.reporter_code, i.partner_code) as benchmark_reporter_code,
        'X' as benchmark_flow_code,
        x.value_usd as benchmark_value_usd,
        'FOB' as benchmark_valuation,
        coalesce(i.origin, x.origin) as origin
    from (select * from cross_flows where flow_code = 'M') as i
    full outer join (select * from cross_flows where flow_code = 'X') as x
        on x.source = i.counterpart_source
        and x.reporter_code = i.partner_code
        and x.partner_code = i.reporter_code
        and x.period_key = i.period_key
        and x.hs6 = i.hs6

),

final as (

    select
        *,
        national_value_usd - benchmark_value_usd as gap_usd,
        case
            when benchmark_value_usd <> 0
                then round((national_value_usd - benchmark_value_usd) / benchmark_value_usd * 100, 4)
        end as gap_pct
    -- vs_comtrade and mirror list the same columns in the same order
    from (select * from vs_comtrade union all select * from mirror)

)

select * from final
