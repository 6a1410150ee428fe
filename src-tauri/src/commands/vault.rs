//! Vault: status, create, unlock, lock. After create and unlock the search index is built in
//! the background, so the first search is as quick as the others.

use std::sync::Arc;

use hearth_api::VaultStatus;

use super::{blocking, Analysis, Reply, Shared};

/// Build the search index on a blocking thread; failures are only logged (the first search
/// builds it again).
fn warm_search(session: &Shared<'_>) {
    let session = Arc::clone(session);
    drop(tauri::async_runtime::spawn_blocking(move || match session
        .hearth()
        .and_then(|h| h.warm_search())
    {
        Ok(n) => tracing::info!(records = n, "search index built"),
        Err(e) => tracing::warn!("the search index was not built now: {}", e.message()),
    }));
}

/// Where the vault is and whether it is locked. Does not count as use.
#[tauri::command]
pub async fn vault_status(session: Shared<'_>) -> Reply<VaultStatus> {
    let mut status = blocking(&session, |s| Ok(s.status())).await?;
    status.synced_in = super::sync::synced_in();
    Ok(status)
}

/// Create the vault and keep it unlocked.
#[tauri::command]
pub async fn create_vault(
    session: Shared<'_>,
    insight: Analysis<'_>,
    passphrase: String,
) -> Reply<VaultStatus> {
    tracing::info!("creating the vault");
    // Wiped from memory when done (the IPC layer's own copy of the message is out of reach).
    let passphrase = zeroize::Zeroizing::new(passphrase);
    let r = blocking(&session, move |s| s.create(&passphrase)).await;
    if r.is_ok() {
        warm_search(&session);
        super::insight::request_index(&session, &insight);
    }
    r
}

/// Unlock the vault.
#[tauri::command]
pub async fn unlock(
    session: Shared<'_>,
    insight: Analysis<'_>,
    passphrase: String,
) -> Reply<VaultStatus> {
    let passphrase = zeroize::Zeroizing::new(passphrase);
    let r = blocking(&session, move |s| s.unlock(&passphrase)).await;
    tracing::info!(ok = r.is_ok(), "unlock attempt");
    if r.is_ok() {
        warm_search(&session);
        super::insight::request_index(&session, &insight);
        super::sync::ensure_node(&session).await;
    }
    r
}

/// Lock now: keys and the search index leave memory.
#[tauri::command]
pub async fn lock(session: Shared<'_>, insight: Analysis<'_>) -> Reply<VaultStatus> {
    tracing::info!("locking on request");
    insight.forget();
    super::sync::stop_node();
    blocking(&session, |s| Ok(s.lock())).await
}
