//! The Hearth user interface: yew components compiled to wasm32, shown by the desktop shell.
//!
//! [`api`] is the only module that talks to the shell; [`app`] holds the screens. No patient
//! data is kept anywhere but in component state, which is dropped when the vault locks.

mod api;
mod app;

fn main() {
    yew::Renderer::<app::App>::new().render();
}
