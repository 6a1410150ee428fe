//! The patient list in the sidebar, filtered by name on the client.

use hearth_api::PatientRow;
use yew::prelude::*;

/// Inputs of [`PatientList`].
#[derive(Properties, PartialEq)]
pub struct Props {
    /// Every row, or `None` while loading.
    pub rows: Option<Vec<PatientRow>>,
    /// The filter text (matched against names, case-insensitively).
    pub filter: String,
    /// The selected record.
    pub selected: Option<String>,
    /// Called with the id of the row clicked.
    pub on_select: Callback<String>,
}

/// True when `row` matches the filter; unreadable rows only show without one.
fn matches(row: &PatientRow, needle: &str) -> bool {
    match row {
        PatientRow::Ok { name, .. } => name.to_lowercase().contains(needle),
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

/// The list.
#[component]
pub fn PatientList(props: &Props) -> Html {
    let Some(rows) = &props.rows else {
        return html! { <p class="list-note muted">{ "Loading patients…" }</p> };
    };
    if rows.is_empty() {
        return html! {
            <p class="list-note muted" id="empty-list">
                { "No patients yet. Use " }<strong>{ "Add patient" }</strong>{ " to create the first record." }
            </p>
        };
    }
    let needle = props.filter.trim().to_lowercase();
    let shown: Vec<&PatientRow> = rows.iter().filter(|r| matches(r, &needle)).collect();
    if shown.is_empty() {
        return html! {
            <p class="list-note muted" id="no-match">{ format!("No patient's name contains “{}”.", props.filter.trim()) }</p>
        };
    }
    let items = shown.into_iter().map(|row| match row {
        PatientRow::Ok { id, name, date_of_birth, pronouns, .. } => {
            let selected = props.selected.as_deref() == Some(id.as_str());
            let onclick = {
                let (id, cb) = (id.clone(), props.on_select.clone());
                Callback::from(move |_: MouseEvent| cb.emit(id.clone()))
            };
            let meta = summary(date_of_birth, pronouns);
            html! {
                <li key={id.clone()}>
                    <button type="button" class={classes!("patient-row", selected.then_some("selected"))}
                        data-id={id.clone()} aria-current={selected.then_some("true")} {onclick}>
                        <span class="row-name">{ name }</span>
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
    html! { <ul class="patient-list" id="patient-list">{ for items }</ul> }
}
