//! The patient list in the sidebar: filtered by status (active / discharged / all) and by
//! name, on the client.

use hearth_api::PatientRow;
use yew::prelude::*;

/// Which patients the list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFilter {
    /// In active care.
    #[default]
    Active,
    /// Discharged.
    Discharged,
    /// Everyone.
    All,
}

impl StatusFilter {
    fn label(self) -> &'static str {
        match self {
            StatusFilter::Active => "Active",
            StatusFilter::Discharged => "Discharged",
            StatusFilter::All => "All",
        }
    }

    fn dom_id(self) -> &'static str {
        match self {
            StatusFilter::Active => "filter-active",
            StatusFilter::Discharged => "filter-discharged",
            StatusFilter::All => "filter-all",
        }
    }

    /// "active patients" for messages.
    fn noun(self) -> &'static str {
        match self {
            StatusFilter::Active => "active patient",
            StatusFilter::Discharged => "discharged patient",
            StatusFilter::All => "patient",
        }
    }
}

/// Inputs of [`PatientList`].
#[derive(Properties, PartialEq)]
pub struct Props {
    /// Every row, or `None` while loading.
    pub rows: Option<Vec<PatientRow>>,
    /// The filter text (matched against names, case-insensitively).
    pub filter: String,
    /// The status filter.
    pub status: StatusFilter,
    /// Called with a new status filter.
    pub on_status: Callback<StatusFilter>,
    /// The selected record.
    pub selected: Option<String>,
    /// Called with the id of the row clicked.
    pub on_select: Callback<String>,
}

/// True when `row` passes both filters; unreadable rows only show without a name filter.
fn matches(row: &PatientRow, needle: &str, status: StatusFilter) -> bool {
    match row {
        PatientRow::Ok {
            name, discharged, ..
        } => {
            let by_status = match status {
                StatusFilter::Active => !discharged,
                StatusFilter::Discharged => *discharged,
                StatusFilter::All => true,
            };
            by_status && name.to_lowercase().contains(needle)
        }
        PatientRow::Unreadable { .. } => needle.is_empty(),
    }
}

/// `1985-12-10 · she/her`, skipping empty parts.
fn summary(dob: &str, pronouns: &str) -> String {
    [dob, pronouns]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" · ")
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The status filter buttons.
fn filter_bar(current: StatusFilter, on_status: &Callback<StatusFilter>) -> Html {
    let buttons = [
        StatusFilter::Active,
        StatusFilter::Discharged,
        StatusFilter::All,
    ]
    .into_iter()
    .map(|f| {
        let cb = on_status.clone();
        let onclick = Callback::from(move |_: MouseEvent| cb.emit(f));
        let on = f == current;
        html! {
            <button id={f.dom_id()} type="button" class={classes!("segment", on.then_some("on"))}
                aria-pressed={if on { "true" } else { "false" }} {onclick}>{ f.label() }</button>
        }
    });
    html! { <div class="segmented" role="group" aria-label="Show patients">{ for buttons }</div> }
}

/// The list.
#[component]
pub fn PatientList(props: &Props) -> Html {
    let bar = filter_bar(props.status, &props.on_status);
    let Some(rows) = &props.rows else {
        return html! { <>{ bar }<p class="list-note muted">{ "Loading patients…" }</p></> };
    };
    if rows.is_empty() {
        return html! {
            <>
                { bar }
                <p class="list-note muted" id="empty-list">
                    { "No patients yet. Use " }<strong>{ "Add patient" }</strong>{ " to create the first record." }
                </p>
            </>
        };
    }
    let needle = props.filter.trim().to_lowercase();
    let shown: Vec<&PatientRow> = rows
        .iter()
        .filter(|r| matches(r, &needle, props.status))
        .collect();
    if shown.is_empty() {
        let msg = if needle.is_empty() {
            format!("No {}s.", props.status.noun())
        } else {
            format!(
                "No {}'s name contains “{}”.",
                props.status.noun(),
                props.filter.trim()
            )
        };
        return html! { <>{ bar }<p class="list-note muted" id="no-match">{ msg }</p></> };
    }
    let count = plural(shown.len(), props.status.noun());
    let items = shown.into_iter().map(|row| match row {
        PatientRow::Ok { id, name, date_of_birth, pronouns, discharged } => {
            let selected = props.selected.as_deref() == Some(id.as_str());
            let onclick = {
                let (id, cb) = (id.clone(), props.on_select.clone());
                Callback::from(move |_: MouseEvent| cb.emit(id.clone()))
            };
            let meta = summary(date_of_birth, pronouns);
            html! {
                <li key={id.clone()}>
                    <button type="button" class={classes!("patient-row", selected.then_some("selected"), discharged.then_some("discharged"))}
                        data-id={id.clone()} aria-current={selected.then_some("true")} {onclick}>
                        <span class="row-name">{ name }</span>
                        if *discharged { <span class="badge muted-badge">{ "Discharged" }</span> }
                        if !meta.is_empty() { <span class="row-meta">{ meta }</span> }
                    </button>
                </li>
            }
        }
        PatientRow::Unreadable { id, message } => html! {
            <li key={id.clone()}>
                <div class="patient-row unreadable" data-id={id.clone()} title={message.clone()}>
                    <span class="row-name">{ "⚠ Unreadable record" }</span>
                    <span class="row-meta">{ message }</span>
                </div>
            </li>
        },
    });
    html! {
        <>
            { bar }
            <ul class="patient-list" id="patient-list">{ for items }</ul>
            <p class="list-count muted small">{ count }</p>
        </>
    }
}
