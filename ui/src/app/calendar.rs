//! The calendar: a week (Monday to Sunday, 07:00–21:00) with every occurrence as a block
//! coloured by status, previous / next week, a date to jump to, today's list, booking, and
//! the appointment panel for the occurrence clicked.

use hearth_api::Occurrence;
use yew::prelude::*;

use super::appointment::{status_class, status_label, AppointmentPanel, BookingForm};
use super::ctx::{on_input, on_value, use_ctx};
use super::dates::{clock_of, minutes_of, today, Day};
use crate::api;

/// First hour shown.
const FIRST_HOUR: u32 = 7;
/// Hour the grid ends at.
const LAST_HOUR: u32 = 21;
/// Pixels per hour.
const HOUR_PX: u32 = 48;

/// Where a block sits: lane and lane count in its cluster of overlapping blocks.
fn lanes(spans: &[(u32, u32)]) -> Vec<(usize, usize)> {
    let mut out = vec![(0, 1); spans.len()];
    let mut lane_ends: Vec<u32> = Vec::new();
    let mut cluster: Vec<usize> = Vec::new();
    let mut cluster_end = 0;
    let close =
        |cluster: &mut Vec<usize>, lane_ends: &mut Vec<u32>, out: &mut Vec<(usize, usize)>| {
            for &i in cluster.iter() {
                out[i].1 = lane_ends.len().max(1);
            }
            cluster.clear();
            lane_ends.clear();
        };
    for (i, &(start, end)) in spans.iter().enumerate() {
        if !cluster.is_empty() && start >= cluster_end {
            close(&mut cluster, &mut lane_ends, &mut out);
        }
        let lane = match lane_ends.iter().position(|&e| e <= start) {
            Some(l) => {
                lane_ends[l] = end;
                l
            }
            None => {
                lane_ends.push(end);
                lane_ends.len() - 1
            }
        };
        out[i].0 = lane;
        cluster.push(i);
        cluster_end = cluster_end.max(end);
        if cluster.len() == 1 {
            cluster_end = end;
        }
    }
    close(&mut cluster, &mut lane_ends, &mut out);
    out
}

/// "9 – 15 Mar 2026", "30 Mar – 5 Apr 2026".
fn week_title(monday: Day) -> String {
    let sunday = monday.plus(6);
    if monday.m == sunday.m {
        format!("{} – {}", monday.d, sunday.long())
    } else if monday.y == sunday.y {
        let l = monday.long();
        let without_year = l
            .rsplit_once(' ')
            .map_or(l.as_str(), |(a, _)| a)
            .to_string();
        format!("{without_year} – {}", sunday.long())
    } else {
        format!("{} – {}", monday.long(), sunday.long())
    }
}

/// What the side column shows besides today's list.
#[derive(Clone, PartialEq)]
enum Side {
    Nothing,
    Booking,
    Appointment { id: String, name: String },
}

/// What a slot hidden by the patient's consent shows ("Restricted by consent").
fn restricted_label(o: &Occurrence) -> String {
    if o.patient_name.is_empty() {
        "Restricted by consent".to_string()
    } else {
        o.patient_name.clone()
    }
}

/// One occurrence as a block in its day column.
fn block(o: &Occurrence, lane: (usize, usize), on_open: &Callback<(String, String)>) -> Html {
    let grid_start = FIRST_HOUR * 60;
    let grid_end = LAST_HOUR * 60;
    let start = minutes_of(&o.start).unwrap_or(grid_start);
    let end = start + o.duration_min;
    let outside = start < grid_start || start >= grid_end;
    let top_min = start.clamp(grid_start, grid_end.saturating_sub(20)) - grid_start;
    let len_min = end
        .min(grid_end)
        .saturating_sub(start.max(grid_start))
        .max(20);
    let top = top_min * HOUR_PX / 60;
    let height = (len_min * HOUR_PX / 60).max(22);
    // Lane counts are tiny: the casts cannot lose anything.
    #[allow(clippy::cast_precision_loss)]
    let (left, width) = (lane.0 as f64 * 100.0 / lane.1 as f64, 100.0 / lane.1 as f64);
    let style = format!(
        "top:{top}px;height:{}px;left:calc({left:.3}% + 2px);width:calc({width:.3}% - 4px)",
        height.saturating_sub(2)
    );
    if o.patient_id.is_empty() {
        // The patient's consent hides this appointment: busy, nothing more, no chart.
        let title = format!(
            "{} · {} min · busy ({})",
            clock_of(&o.start),
            o.duration_min,
            o.patient_name
        );
        return html! {
            <div class={classes!("cal-event", "restricted", outside.then_some("outside"))}
                data-start={o.start.clone()} data-restricted="true" {style} {title}>
                <span class="ev-line">
                    <span class="ev-time">{ clock_of(&o.start) }</span>
                    <span class="ev-code">{ "Busy" }</span>
                </span>
                <span class="ev-name">{ restricted_label(o) }</span>
            </div>
        };
    }
    let name = if o.patient_name.is_empty() {
        "(unreadable patient record)".to_string()
    } else {
        o.patient_name.clone()
    };
    let title = format!(
        "{} {} · {} min · {} · {}",
        clock_of(&o.start),
        name,
        o.duration_min,
        o.service_code,
        status_label(o.status)
    );
    let onclick = {
        let (cb, id, name) = (on_open.clone(), o.appointment_id.clone(), name.clone());
        Callback::from(move |_: MouseEvent| cb.emit((id.clone(), name.clone())))
    };
    html! {
        <button type="button" class={classes!("cal-event", status_class(o.status), outside.then_some("outside"))}
            data-appointment={o.appointment_id.clone()} data-start={o.start.clone()} data-status={status_class(o.status)}
            {style} {title} {onclick}>
            <span class="ev-line">
                <span class="ev-time">{ clock_of(&o.start) }</span>
                if !o.service_code.is_empty() { <span class="ev-code">{ &o.service_code }</span> }
            </span>
            <span class="ev-name">{ name }</span>
        </button>
    }
}

/// The calendar screen.
#[component]
pub fn Calendar() -> Html {
    let ctx = use_ctx();
    let week = use_state(|| today().monday());
    let version = use_state(|| 0u32);
    let occurrences = use_state(|| None::<Vec<Occurrence>>);
    let todays = use_state(|| None::<Vec<Occurrence>>);
    let side = use_state(|| Side::Nothing);
    let error = use_state(|| None::<String>);

    {
        let (ctx, occurrences, error) = (ctx.clone(), occurrences.clone(), error.clone());
        use_effect_with((*week, *version), move |(monday, _)| {
            let (from, to) = (
                format!("{}T00:00", monday.iso()),
                format!("{}T00:00", monday.plus(7).iso()),
            );
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::calendar(&from, &to).await;
                if let Some(v) = ctx.take(r, &error) {
                    occurrences.set(Some(v));
                }
            });
        });
    }
    {
        let (ctx, todays, error) = (ctx.clone(), todays.clone(), error.clone());
        use_effect_with(*version, move |_| {
            let day = today();
            let (from, to) = (
                format!("{}T00:00", day.iso()),
                format!("{}T00:00", day.plus(1).iso()),
            );
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::calendar(&from, &to).await;
                if let Some(v) = ctx.take(r, &error) {
                    todays.set(Some(v));
                }
            });
        });
    }

    let go = |to: Day| {
        let week = week.clone();
        Callback::from(move |_: MouseEvent| week.set(to))
    };
    let to_date = {
        let week = week.clone();
        Callback::from(move |v: String| {
            if let Some(d) = Day::parse(&v) {
                week.set(d.monday());
            }
        })
    };
    let on_book = {
        let side = side.clone();
        Callback::from(move |_: MouseEvent| side.set(Side::Booking))
    };
    let on_open = {
        let side = side.clone();
        Callback::from(move |(id, name): (String, String)| side.set(Side::Appointment { id, name }))
    };
    let on_close = {
        let side = side.clone();
        Callback::from(move |()| side.set(Side::Nothing))
    };
    let on_changed = {
        let version = version.clone();
        Callback::from(move |()| version.set(*version + 1))
    };
    let on_booked = {
        let (week, version, side) = (week.clone(), version.clone(), side.clone());
        Callback::from(move |a: hearth_api::Stored<hearth_api::Appointment>| {
            if let Some(d) = Day::parse(&a.record.start) {
                week.set(d.monday());
            }
            version.set(*version + 1);
            side.set(Side::Nothing);
        })
    };

    let monday = *week;
    let this_day = today();
    let hours = (FIRST_HOUR..LAST_HOUR).map(|h| {
        html! { <div class="hour-label" style={format!("height:{HOUR_PX}px")}>{ format!("{h:02}:00") }</div> }
    });
    let heads = (0..7).map(|i| {
        let d = monday.plus(i);
        html! {
            <div class={classes!("day-head", (d == this_day).then_some("today"))} data-date={d.iso()}>
                <span class="day-name">{ d.weekday_name() }</span>
                <span class="day-num">{ d.d }</span>
            </div>
        }
    });
    let all = (*occurrences).clone().unwrap_or_default();
    let columns = (0..7).map(|i| {
        let d = monday.plus(i);
        let iso = d.iso();
        let day: Vec<&Occurrence> = all.iter().filter(|o| o.start.starts_with(&iso)).collect();
        let spans: Vec<(u32, u32)> = day
            .iter()
            .map(|o| {
                let s = minutes_of(&o.start).unwrap_or(0);
                (s, s + o.duration_min.max(20))
            })
            .collect();
        let placed = lanes(&spans);
        html! {
            <div class={classes!("cal-day", (d == this_day).then_some("today"))} data-date={iso.clone()}
                style={format!("height:{}px", (LAST_HOUR - FIRST_HOUR) * HOUR_PX)}>
                { for day.iter().zip(placed).map(|(o, lane)| block(o, lane, &on_open)) }
            </div>
        }
    });
    let count = all.len();
    let today_list = match &*todays {
        None => html! { <p class="muted small">{ "Loading…" }</p> },
        Some(v) if v.is_empty() => {
            html! { <p class="muted small" id="today-empty">{ "Nothing booked today." }</p> }
        }
        Some(v) => html! {
            <ul class="today-list" id="today-list">
                { for v.iter().map(|o| {
                    if o.patient_id.is_empty() {
                        return html! {
                            <li key={format!("{}-{}", o.appointment_id, o.start)}>
                                <div class="today-item restricted" data-restricted="true">
                                    <span class="today-time">{ clock_of(&o.start) }</span>
                                    <span class="today-name">{ restricted_label(o) }</span>
                                    <span class="today-meta">{ format!("{} min · busy", o.duration_min) }</span>
                                </div>
                            </li>
                        };
                    }
                    let onclick = {
                        let (cb, id, name) = (on_open.clone(), o.appointment_id.clone(), o.patient_name.clone());
                        Callback::from(move |_: MouseEvent| cb.emit((id.clone(), name.clone())))
                    };
                    html! {
                        <li key={format!("{}-{}", o.appointment_id, o.start)}>
                            <button type="button" class={classes!("today-item", status_class(o.status))} {onclick}>
                                <span class="today-time">{ clock_of(&o.start) }</span>
                                <span class="today-name">{ &o.patient_name }</span>
                                <span class="today-meta">{ format!("{} min · {} · {}", o.duration_min, o.service_code, status_label(o.status)) }</span>
                            </button>
                        </li>
                    }
                }) }
            </ul>
        },
    };
    let side_panel = match &*side {
        Side::Nothing => html! {},
        Side::Booking => html! {
            <BookingForm start={format!("{}T09:00", if monday == this_day.monday() { this_day } else { monday }.iso())}
                {on_booked} on_cancel={on_close.clone()} />
        },
        Side::Appointment { id, name } => html! {
            <AppointmentPanel key={id.clone()} id={id.clone()}
                patient_name={(!name.is_empty()).then(|| name.clone())}
                {on_changed} on_close={on_close.clone()} />
        },
    };
    let legend = [
        hearth_api::AppointmentStatus::Scheduled,
        hearth_api::AppointmentStatus::Attended,
        hearth_api::AppointmentStatus::NoShow,
        hearth_api::AppointmentStatus::Cancelled,
    ]
    .into_iter()
    .map(|s| html! { <span class={classes!("legend-item", status_class(s))}><span class="swatch"></span>{ status_label(s) }</span> });

    html! {
        <div class="calendar-view" id="calendar">
            <div class="calendar-main">
                <header class="cal-head">
                    <div>
                        <h2 id="week-title">{ week_title(monday) }</h2>
                        <p class="muted small">
                            { match count { 0 => "No appointments this week.".to_string(), 1 => "1 appointment".to_string(), n => format!("{n} appointments") } }
                        </p>
                    </div>
                    <div class="cal-nav">
                        <button id="prev-week" type="button" class="secondary" aria-label="Previous week" onclick={go(monday.plus(-7))}>{ "‹" }</button>
                        <button id="this-week" type="button" class="secondary" onclick={go(this_day.monday())}>{ "Today" }</button>
                        <button id="next-week" type="button" class="secondary" aria-label="Next week" onclick={go(monday.plus(7))}>{ "›" }</button>
                        <input id="calendar-date" type="date" aria-label="Go to date" value={monday.iso()}
                            onchange={on_value(to_date.clone())} oninput={on_input(to_date)} />
                        <button id="book-appointment" type="button" class="primary" onclick={on_book}>{ "Book" }</button>
                    </div>
                </header>
                if let Some(e) = &*error { <p class="error" role="alert">{ e }</p> }
                <div class="week" id="week-view" data-week={monday.iso()}>
                    <div class="week-head">
                        <div class="gutter"></div>
                        { for heads }
                    </div>
                    <div class="week-body">
                        <div class="gutter">{ for hours }</div>
                        { for columns }
                    </div>
                </div>
                <div class="legend">{ for legend }</div>
            </div>
            <aside class="calendar-side">
                { side_panel }
                <section class="side-card">
                    <h3>{ format!("Today · {}", this_day.short()) }</h3>
                    { today_list }
                </section>
            </aside>
        </div>
    }
}
