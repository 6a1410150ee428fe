//! A measure's scores over time as inline SVG, drawn here (no chart library): x is the date,
//! y the total from 0 to the measure's maximum, the severity bands shaded as horizontal
//! stripes with their labels, the scores as points joined by a line, and a ring with ▼ / ▲ on
//! each point whose change from the previous administration is reliable.
//!
//! Stable hooks for tests: `svg.measure-chart[data-instrument]`, `circle.measure-point`
//! (`data-total`, `data-date`), `g.change-marker` (`data-change`).

use hearth_api::{Assessment, InstrumentForm, Scored, Stored};
use yew::prelude::*;

use super::ctx::instrument_key;
use super::dates::Day;

const W: f64 = 720.0;
const H: f64 = 250.0;
const LEFT: f64 = 34.0;
const RIGHT: f64 = 172.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 30.0;
/// Space at each end of the x axis, so points do not sit on the edge.
const PAD: f64 = 22.0;

/// Stripe colours, mildest first (calm: tinted, not alarming).
const BAND_FILLS: [&str; 5] = ["#e6f1ea", "#f3f1dc", "#f8ead6", "#f6dfd3", "#f2d3cf"];

/// "Moderately severe" from "moderately severe".
fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// "10 Mar".
fn day_month(date: &str) -> String {
    Day::parse(date).map_or_else(
        || date.to_string(),
        |d| {
            let long = d.long();
            long.rsplit_once(' ')
                .map_or(long.clone(), |(a, _)| a.to_string())
        },
    )
}

/// The x position of each point: by date, spread evenly when all share a date, and nudged
/// apart when several share one.
fn x_positions(dates: &[&str]) -> Vec<f64> {
    let plot = W - LEFT - RIGHT - 2.0 * PAD;
    let days: Vec<Option<i64>> = dates
        .iter()
        .map(|d| Day::parse(d).map(Day::number))
        .collect();
    let known: Vec<i64> = days.iter().flatten().copied().collect();
    let (min, max) = (
        known.iter().min().copied().unwrap_or(0),
        known.iter().max().copied().unwrap_or(0),
    );
    let n = dates.len();
    // Counts and day spans are small: the casts are exact.
    #[allow(clippy::cast_precision_loss)]
    let by_index = |i: usize| {
        if n <= 1 {
            LEFT + PAD + plot / 2.0
        } else {
            LEFT + PAD + plot * i as f64 / (n - 1) as f64
        }
    };
    if max == min || known.len() != n {
        return (0..n).map(by_index).collect();
    }
    let mut out = Vec::with_capacity(n);
    let mut last: Option<(i64, f64)> = None;
    for d in days.into_iter().flatten() {
        #[allow(clippy::cast_precision_loss)]
        let mut x = LEFT + PAD + plot * (d - min) as f64 / (max - min) as f64;
        if let Some((ld, lx)) = last {
            if ld == d || x - lx < 10.0 {
                x = lx + 10.0;
            }
        }
        last = Some((d, x));
        out.push(x);
    }
    out
}

/// The chart for one measure; `points` oldest first.
pub fn measure_chart(form: &InstrumentForm, points: &[&(Stored<Assessment>, Scored)]) -> Html {
    let max = f64::from(form.max_total.max(1));
    let plot_h = H - TOP - BOTTOM;
    let y = |total: f64| TOP + plot_h * (1.0 - total.min(max) / max);
    let key = instrument_key(form.instrument);

    let bands = form.bands.iter().enumerate().map(|(i, b)| {
        let top_total = if i + 1 == form.bands.len() {
            max
        } else {
            f64::from(b.to + 1)
        };
        let (y0, y1) = (y(top_total), y(f64::from(b.from)));
        let fill = BAND_FILLS[i.min(BAND_FILLS.len() - 1)];
        html! {
            <g class="band" data-band={b.label.clone()}>
                <rect x={format!("{LEFT}")} y={format!("{y0:.1}")} width={format!("{:.1}", W - LEFT - RIGHT)}
                    height={format!("{:.1}", (y1 - y0).max(0.0))} fill={fill} />
                <text x={format!("{:.1}", W - RIGHT + 8.0)} y={format!("{:.1}", (y0 + y1) / 2.0 + 4.0)}
                    class="band-label">{ format!("{} ({}–{})", capitalised(&b.label), b.from, b.to) }</text>
                <text x={format!("{:.1}", LEFT - 6.0)} y={format!("{:.1}", y1 + 4.0)} class="axis-label" text-anchor="end">
                    { b.from.to_string() }
                </text>
            </g>
        }
    });
    let dates: Vec<&str> = points
        .iter()
        .map(|(a, _)| a.record.administered_on.as_str())
        .collect();
    let xs = x_positions(&dates);
    let coords: Vec<(f64, f64)> = points
        .iter()
        .zip(&xs)
        .map(|((_, s), x)| (*x, y(f64::from(s.total))))
        .collect();
    let line = coords
        .iter()
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect::<Vec<_>>()
        .join(" ");
    let dots = points.iter().zip(&coords).map(|((a, s), (x, yv))| {
        let title = format!(
            "{}: {} of {} ({}){}",
            a.record.administered_on,
            s.total,
            form.max_total,
            s.band,
            if s.safety_alert { " · item 9 above zero" } else { "" }
        );
        html! {
            <circle class={classes!("measure-point", s.safety_alert.then_some("alert"))} cx={format!("{x:.1}")} cy={format!("{yv:.1}")} r="5"
                data-total={s.total.to_string()} data-date={a.record.administered_on.clone()}>
                <title>{ title }</title>
            </circle>
        }
    });
    let markers = points.iter().zip(&coords).filter_map(|((_, s), (x, yv))| {
        let (class, glyph, words) = match s.change.as_deref() {
            Some("reliable_improvement") => ("improvement", "▼", "Reliable improvement"),
            Some("reliable_deterioration") => ("deterioration", "▲", "Reliable deterioration"),
            _ => return None,
        };
        let glyph_y = if *yv < TOP + 24.0 { yv + 26.0 } else { yv - 15.0 };
        Some(html! {
            <g class={classes!("change-marker", class)} data-change={s.change.clone().unwrap_or_default()}>
                <title>{ format!("{words}: a change of {} points or more from the previous {}", form.reliable_change_points, form.name) }</title>
                <circle cx={format!("{x:.1}")} cy={format!("{yv:.1}")} r="10" class="change-ring" />
                <text x={format!("{x:.1}")} y={format!("{glyph_y:.1}")} class="change-glyph" text-anchor="middle">{ glyph }</text>
            </g>
        })
    });
    // Date labels: all when few, else about six.
    let step = (points.len() / 6).max(1);
    let labels = points
        .iter()
        .zip(&xs)
        .enumerate()
        .filter(|(i, _)| i % step == 0 || *i + 1 == points.len())
        .map(|(_, ((a, _), x))| {
            html! {
                <text x={format!("{x:.1}")} y={format!("{:.1}", H - BOTTOM + 18.0)} class="axis-label" text-anchor="middle">
                    { day_month(&a.record.administered_on) }
                </text>
            }
        });
    let summary = format!(
        "{} totals over time, {} administration{}, scale 0 to {}",
        form.name,
        points.len(),
        if points.len() == 1 { "" } else { "s" },
        form.max_total
    );
    html! {
        <svg class="measure-chart" id={format!("chart-{key}")} data-instrument={key}
            viewBox={format!("0 0 {W} {H}")} role="img" aria-label={summary.clone()}
            preserveAspectRatio="xMidYMid meet">
            <title>{ summary }</title>
            { for bands }
            <text x={format!("{:.1}", LEFT - 6.0)} y={format!("{:.1}", TOP + 4.0)} class="axis-label" text-anchor="end">
                { form.max_total.to_string() }
            </text>
            <line x1={format!("{LEFT}")} y1={format!("{:.1}", H - BOTTOM)} x2={format!("{:.1}", W - RIGHT)} y2={format!("{:.1}", H - BOTTOM)} class="axis" />
            if points.len() > 1 {
                <polyline points={line} class="measure-line" fill="none" />
            }
            { for dots }
            { for markers }
            { for labels }
        </svg>
    }
}
