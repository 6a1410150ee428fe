//! Attachments' content over iroh-blobs: BLAKE3-verified, resumable, and only ever ciphertext.
//!
//! What travels is an attachment's *transfer form*: its content sealed under a key that only
//! the attachment's record carries (so only devices that consent lets read the attachment can
//! open it), addressed by the BLAKE3 of the sealed bytes. Every device keeps a transfer cache
//! (an iroh-blobs file store) beside its vault; it holds nothing but transfer forms:
//! - **serving**: a member asks for a hash over ALPN `/iroh-bytes/4` (the membership gate runs
//!   first, as for sync); the request is let through only when the store says that member may
//!   read the attachment, which then writes the transfer form into the cache for the length of
//!   the connection. Requests for hash sequences, pushes and observations are refused.
//! - **fetching**: after a sync session, the store names the attachments whose record is here
//!   but content is not; each is fetched into the cache (tagged, so a transfer cut short keeps
//!   what arrived and the next sync asks only for the rest), then opened and sealed into the
//!   vault by the store, which checks size and SHA-256; then the cache copy is let go.
//!
//! The cache is garbage collected: untagged content is removed within a minute.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use iroh::endpoint::Connection;
use iroh_blobs::api::blobs::BlobStatus;
use iroh_blobs::api::remote::GetProgressItem;
use iroh_blobs::provider::events::{
    AbortReason, ConnectMode, EventMask, EventSender, ObserveMode, ProviderMessage, RequestMode,
    ThrottleMode,
};
use iroh_blobs::store::fs::options::Options;
use iroh_blobs::store::fs::FsStore;
use iroh_blobs::store::GcConfig;
use iroh_blobs::{Hash, HashAndFormat};

use crate::clinic::Member;
use crate::session::Store;

/// The ALPN content is served on.
pub const CONTENT_ALPN: &[u8] = iroh_blobs::ALPN;

/// Commit the cache's state after this many bytes of a transfer.
const COMMIT_EVERY: u64 = 4 * 1024 * 1024;

/// Bytes per piece handed between the async transfer and the blocking vault side.
const PIECE: usize = 256 * 1024;

/// What fetching content from a peer did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fetched {
    /// Attachments whose content arrived and is now in the vault.
    pub kept: usize,
    /// Bytes of transfer form read from the network (a resumed transfer counts only the rest).
    pub bytes: u64,
    /// Attachments the peer could not give (it lacks the content, or consent does not let
    /// this device read it), or whose content did not check out.
    pub failed: usize,
}

/// A device's transfer cache and the content protocol over it.
#[derive(Debug, Clone)]
pub(crate) struct Content {
    cache: FsStore,
}

fn tag_for(hash: &Hash) -> String {
    format!("hearth/want/{}", hash.to_hex())
}

impl Content {
    /// Open (or create) the transfer cache in `dir`.
    pub(crate) async fn open(dir: &Path) -> Result<Self, String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("could not create {}: {e}", dir.display()))?;
        let mut options = Options::new(dir);
        options.gc = Some(GcConfig {
            interval: Duration::from_secs(60),
            add_protected: None,
        });
        let cache = FsStore::load_with_opts(dir.join("blobs.db"), options)
            .await
            .map_err(|e| format!("could not open the transfer cache {}: {e}", dir.display()))?;
        Ok(Self { cache })
    }

    /// Serve `peer` (already through the membership gate) on `conn` until it closes.
    pub(crate) async fn serve(&self, conn: Connection, peer: Member, store: Arc<dyn Store>) {
        let mask = EventMask {
            connected: ConnectMode::None,
            get: RequestMode::Intercept,
            get_many: RequestMode::Disabled,
            push: RequestMode::Disabled,
            observe: ObserveMode::Intercept,
            throttle: ThrottleMode::None,
        };
        let (events, mut rx) = EventSender::channel(8, mask);
        let me = self.clone();
        let decide = tokio::spawn(async move {
            // Transfer forms written for this connection stay until it ends.
            let mut held = Vec::new();
            while let Some(msg) = rx.recv().await {
                match msg {
                    ProviderMessage::GetRequestReceived(m) => {
                        let req = &m.inner.request;
                        let verdict = if !req.ranges.is_blob() {
                            tracing::info!("refused a content request that is not one blob");
                            Err(AbortReason::Permission)
                        } else {
                            match me.provide(&peer, req.hash, &store).await {
                                Some(tag) => {
                                    held.push(tag);
                                    Ok(())
                                }
                                None => Err(AbortReason::Permission),
                            }
                        };
                        let _ = m.tx.send(verdict).await;
                    }
                    ProviderMessage::ObserveRequestReceived(m) => {
                        let _ = m.tx.send(Err(AbortReason::Permission)).await;
                    }
                    _ => {}
                }
            }
            drop(held);
        });
        iroh_blobs::provider::handle_connection(conn, self.cache.as_ref().clone(), events).await;
        let _ = decide.await;
    }

    /// Write the transfer form addressed by `hash` into the cache if the store lets `peer` read
    /// its attachment; the temp tag keeps it there while held.
    async fn provide(
        &self,
        peer: &Member,
        hash: Hash,
        store: &Arc<dyn Store>,
    ) -> Option<iroh_blobs::api::TempTag> {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<bytes::Bytes>>(4);
        let (store, peer2) = (store.clone(), peer.clone());
        let want = *hash.as_bytes();
        let writer = tokio::task::spawn_blocking(move || {
            let mut out = ChannelWriter {
                tx: tx.clone(),
                buf: Vec::with_capacity(PIECE),
            };
            let mut result = None;
            store.in_background(&mut || {
                result = Some(store.sealed_content(&peer2, &want, &mut out));
            });
            match result {
                Some(Ok(Some(id))) => match out.flush_piece() {
                    Ok(()) => Some(id),
                    Err(_) => None,
                },
                Some(Ok(None)) => None,
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "could not read an attachment to send");
                    let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
                    None
                }
                None => None,
            }
        });
        // Nothing is added unless the store writes: an empty stream is not the empty content.
        let first = rx.recv().await;
        let Some(first) = first else {
            let _ = writer.await;
            return None;
        };
        use futures_lite::StreamExt;
        let stream = futures_lite::stream::once(first)
            .chain(futures_lite::stream::unfold(rx, |mut rx| async move {
                rx.recv().await.map(|b| (b, rx))
            }));
        let added = self.cache.blobs().add_stream(stream).await.temp_tag().await;
        let id = writer.await.ok().flatten();
        match (added, id) {
            (Ok(tag), Some(id)) if tag.hash() == hash => {
                tracing::info!(record = %id, "serving an attachment's content");
                Some(tag)
            }
            (Ok(_), Some(id)) => {
                tracing::warn!(record = %id, "an attachment's content does not seal to the hash its record names");
                None
            }
            (Err(e), _) => {
                tracing::warn!(error = %e, "could not stage an attachment's content");
                None
            }
            _ => None,
        }
    }

    /// The transfer forms of attachments whose record is here but content is not.
    pub(crate) async fn wanted(store: &Arc<dyn Store>) -> Vec<Hash> {
        let store = store.clone();
        let listed = tokio::task::spawn_blocking(move || {
            let mut w = None;
            store.in_background(&mut || w = Some(store.wanted_content()));
            w
        })
        .await;
        match listed {
            Ok(Some(Ok(w))) => w.into_iter().map(Hash::from_bytes).collect(),
            Ok(Some(Err(e))) => {
                tracing::warn!(error = %e, "could not list the attachments to fetch");
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// Fetch `wanted` from `conn`, keeping each in the vault as it arrives; `each` hears the
    /// running totals.
    pub(crate) async fn fetch(
        &self,
        conn: &Connection,
        wanted: &[Hash],
        store: &Arc<dyn Store>,
        each: &(dyn Fn(&Fetched) + Send + Sync),
    ) -> Fetched {
        let mut out = Fetched::default();
        for hash in wanted {
            // Bytes of this file so far, reported as they arrive (a large file moves the bar).
            let done = out.clone();
            let partial = |n: u64| {
                let mut now = done.clone();
                now.bytes += n;
                each(&now);
            };
            match self.fetch_one(conn, *hash, store, &partial).await {
                Ok(bytes) => {
                    out.kept += 1;
                    out.bytes += bytes;
                }
                Err(why) => {
                    tracing::info!(hash = %hash.fmt_short(), %why, "an attachment's content did not arrive");
                    out.failed += 1;
                }
            }
            each(&out);
        }
        out
    }

    async fn fetch_one(
        &self,
        conn: &Connection,
        hash: Hash,
        store: &Arc<dyn Store>,
        partial: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<u64, String> {
        let tag = tag_for(&hash);
        // The tag keeps a partial transfer across restarts until the content is in the vault.
        self.cache
            .tags()
            .set(&tag, HashAndFormat::raw(hash))
            .await
            .map_err(|e| e.to_string())?;
        // Committed now, and every few MiB while it arrives: a kill -9 loses at most the
        // last stretch, and the next fetch asks only for what is missing.
        let _ = self.cache.sync_db().await;
        let mut progress = std::pin::pin!(self.cache.remote().fetch(conn.clone(), hash).stream());
        let mut committed = 0u64;
        let stats = loop {
            use futures_lite::StreamExt;
            match progress.next().await {
                Some(GetProgressItem::Progress(n)) => {
                    partial(n);
                    if n >= committed + COMMIT_EVERY {
                        committed = n;
                        let _ = self.cache.sync_db().await;
                    }
                }
                Some(GetProgressItem::Done(stats)) => break stats,
                Some(GetProgressItem::Error(e)) => {
                    let _ = self.cache.sync_db().await;
                    return Err(format!("the peer did not send it ({e})"));
                }
                None => return Err("the transfer stopped".into()),
            }
        };
        match self.cache.blobs().status(hash).await {
            Ok(BlobStatus::Complete { .. }) => {}
            _ => return Err("the transfer ended incomplete".into()),
        }
        let kept = self.import(hash, store).await;
        // Kept, or known bad (it verified against its BLAKE3, so it will not improve): the
        // cache copy goes either way.
        let _ = self.cache.tags().delete(&tag).await;
        kept.map(|_| stats.payload_bytes_read)
    }

    /// Hand the cached transfer form to the store, which opens it into the vault.
    async fn import(&self, hash: Hash, store: &Arc<dyn Store>) -> Result<u64, String> {
        use tokio::io::AsyncReadExt;
        let (tx, rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(4);
        let store = store.clone();
        let want = *hash.as_bytes();
        let opener = tokio::task::spawn_blocking(move || {
            let mut reader = ChannelReader {
                rx,
                piece: bytes::Bytes::new(),
            };
            let mut result = None;
            store.in_background(&mut || result = Some(store.import_content(&want, &mut reader)));
            result
        });
        let mut reader = self.cache.blobs().reader(hash);
        let mut buf = vec![0u8; PIECE];
        loop {
            let n = reader
                .read(&mut buf)
                .await
                .map_err(|e| format!("reading the transfer cache: {e}"))?;
            if n == 0
                || tx
                    .send(bytes::Bytes::copy_from_slice(&buf[..n]))
                    .await
                    .is_err()
            {
                break;
            }
        }
        drop(tx);
        match opener.await {
            Ok(Some(Ok(n))) => Ok(n),
            Ok(Some(Err(e))) => Err(e.to_string()),
            _ => Err("the vault side of the import stopped".into()),
        }
    }
}

/// Pieces written on a blocking thread, handed to an async stream.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<std::io::Result<bytes::Bytes>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn flush_piece(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let piece = bytes::Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(PIECE)));
        self.tx
            .blocking_send(Ok(piece))
            .map_err(|_| std::io::Error::other("the transfer cache stopped reading"))
    }
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= PIECE {
            self.flush_piece()?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Pieces from an async reader, read on a blocking thread.
struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<bytes::Bytes>,
    piece: bytes::Bytes,
}

impl std::io::Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.piece.is_empty() {
            match self.rx.blocking_recv() {
                Some(p) => self.piece = p,
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.piece.len());
        out[..n].copy_from_slice(&self.piece[..n]);
        let _ = self.piece.split_to(n);
        Ok(n)
    }
}
