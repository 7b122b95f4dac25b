{{ config(
    materialized=('incremental' if state_in_warehouse() else 'table'),
    incremental_strategy=('replace_where' if state_in_warehouse() else none),
    replace_where=party_slice_exists('semitrade_state.int_mirror__reports__pending', 't', ['exporter_code', 'importer_code']),
    on_schema_change='fail',
    post_hook=("{{ fct_changes_consumed('int_mirror__reports') }}" if state_in_warehouse() else []),
) }}
-- One row per exporter → importer × HS6 × period (annual and monthly): the exporter's report of its
-- exports (FOB) next to the importer's report of the same flow (CIF), when either exists.
-- Comtrade rows only, bilateral only (World and aggregate rows are excluded), flows X and M only.
-- Mirror reports are matched on the HS6 code; `is_hs_version_mismatch` says when the two sides
-- used different HS versions for that period (the code may then not cover the same goods).
--
-- Incremental (macros/replace_slices.sql): a row depends only on the exporter's and the importer's
-- reports of its frequency and year, so when fct_trade_flows re-derived the partition of reporter R,
-- frequency F, year Y, this model re-derives the rows of F × Y where R is exporter or importer.
{%- set slice = 'true' %}
{%- set year_slice = 'true' %}
{%- if execute and model.resource_type != 'unit_test' and state_in_warehouse() %}
{%- set changes = fct_changes_prepare('int_mirror__reports', is_incremental()) %}
{%- if is_incremental() and not changes.full %}
{%- set slice = party_slice_predicate(changes.partitions, ['reporter_code', 'partner_code']) %}
{%- set year_slice = party_slice_predicate(changes.partitions, []) %}
{%- do log('int_mirror__reports: ' ~ (changes.partitions.rows | length) ~ ' changed fact partition(s) to take in', info=true) %}
{%- endif %}
{%- endif %}
with

flows as (

    select
        freq_code,
        period_key,
        reporter_code,
        partner_code,
        flow_code,
        hs_version,
        hs6,
        segment,
        value_usd,
        origin
    from {{ ref('fct_trade_flows') }}
    where source = 'comtrade'
      and not is_aggregate
      and flow_code in ('X', 'M')
      and partner_code <> reporter_code
      and {{ slice }}

),

export_reports as (

    select
        freq_code,
        period_key,
        reporter_code as exporter_code,
        partner_code as importer_code,
        hs6,
        -- the sorted distinct versions, comma-separated; written so that the common case (one
        -- version) skips the ordered DISTINCT aggregate, which cost 4x the whole model at 10M rows
        case when min(hs_version) = max(hs_version) then min(hs_version)
            else {{ sorted_distinct_csv('hs_version') }} end as exporter_hs_version,
        min(segment) as segment,
        max(origin) as origin,
        {{ sum_exact('value_usd') }} as export_report_fob_usd
    from flows
    where flow_code = 'X'
    group by all

),

import_reports as (

    select
        freq_code,
        period_key,
        partner_code as exporter_code,
        reporter_code as importer_code,
        hs6,
        case when min(hs_version) = max(hs_version) then min(hs_version)
            else {{ sorted_distinct_csv('hs_version') }} end as importer_hs_version,
        min(segment) as segment,
        max(origin) as origin,
        {{ sum_exact('value_usd') }} as import_report_cif_usd
    from flows
    where flow_code = 'M'
    group by all

),

-- Who reported anything at all in a period: tells "the partner does not report" (Taiwan in
-- Comtrade) apart from "the partner reports but not this flow".
reporters as (

    select distinct freq_code, period_key, reporter_code
    from {{ ref('fct_trade_flows') }}
    where source = 'comtrade'
      and {{ year_slice }}

),

joined as (

    select
        freq_code,
        period_key,
        exporter_code,
        importer_code,
        hs6,
        x.exporter_hs_version,
        m.importer_hs_version,
        coalesce(x.segment, m.segment) as segment,
        -- a reconciled row is 'sample' as soon as one of its reports is
        -- 'sample' when either report is SYNTHETIC, else the max of the real origins ('live' > 'imported')
        case when x.origin = 'sample' or m.origin = 'sample' then 'sample'
            else greatest(coalesce(x.origin, m.origin), coalesce(m.origin, x.origin)) end as origin,
        x.export_report_fob_usd,
        m.import_report_cif_usd
    from export_reports as x
    full outer join import_reports as m
        using (freq_code, period_key, exporter_code, importer_code, hs6)

),

final as (

    select
        j.freq_code,
        j.period_key,
        cast(left(j.period_key, 4) as integer) as ref_year,
        case when j.freq_code = 'M' then cast(right(j.period_key, 2) as integer) end as ref_month,
        j.exporter_code,
        j.importer_code,
        j.hs6,
        coalesce(split_part(j.exporter_hs_version, ',', 1), split_part(j.importer_hs_version, ',', 1)) as hs_version,
        j.exporter_hs_version,
        j.importer_hs_version,
        j.segment,
        j.origin,
        j.export_report_fob_usd,
        j.import_report_cif_usd,
        case
            when j.export_report_fob_usd is not null and j.import_report_cif_usd is not null then 'both'
            when j.export_report_fob_usd is not null then 'exporter_only'
            else 'importer_only'
        end as reports_available,
        coalesce(j.exporter_hs_version <> j.importer_hs_version or contains(j.exporter_hs_version, ',')
            or contains(j.importer_hs_version, ','), false) as is_hs_version_mismatch,
        rx.reporter_code is not null as is_exporter_a_reporter,
        rm.reporter_code is not null as is_importer_a_reporter
    from joined as j
    left join reporters as rx
        on rx.freq_code = j.freq_code and rx.period_key = j.period_key and rx.reporter_code = j.exporter_code
    left join reporters as rm
        on rm.freq_code = j.freq_code and rm.period_key = j.period_key and rm.reporter_code = j.importer_code

)

select * from final
