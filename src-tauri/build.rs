//! Tauri's build step: reads `tauri.conf.json` and prepares the app's context and icons.

fn main() {
    tauri_build::build()
}
