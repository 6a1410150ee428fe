//! Clinic sync: the clinic as this device knows it, invites, and "Sync now" results.

use serde::{Deserialize, Serialize};

/// The clinic, or `None` in [`ClinicStatus::clinic`] when this device is in no clinic.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClinicStatus {
    /// The clinic this device belongs to.
    pub clinic: Option<ClinicView>,
    /// The background sync node.
    pub node: NodeState,
    /// When the last "Sync now" finished (Unix milliseconds).
    pub last_sync_ms: Option<u64>,
}

/// The background sync node that other clinic devices connect to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeState {
    /// Listening.
    pub running: bool,
    /// Where other devices reach it (`IP:PORT`).
    pub addrs: Vec<String>,
    /// Why it is not running, in plain words.
    pub error: Option<String>,
}

/// A clinic.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClinicView {
    /// Clinic id (hex).
    pub id: String,
    /// Name.
    pub name: String,
    /// This device is the registrar (it invites and removes members).
    pub registrar: bool,
    /// This device's role: clinician, admin or patient.
    pub role: String,
    /// This device's endpoint id (hex).
    pub endpoint: String,
    /// When this is a patient's own device: the patient's record id.
    pub own_patient: Option<String>,
    /// Clinic devices are looked for on the local network (mDNS).
    #[serde(default)]
    pub mdns: bool,
    /// The clinic's self-hosted relay, if it uses one.
    #[serde(default)]
    pub relay: Option<String>,
    /// Members, in endpoint order.
    pub members: Vec<MemberView>,
}

/// A member device.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    /// Endpoint id (hex).
    pub endpoint: String,
    /// Device name.
    pub name: String,
    /// Role: clinician, admin or patient.
    pub role: String,
    /// Witness stake.
    pub stake: u64,
    /// A patient's device: its patient's record id.
    pub patient: Option<String>,
    /// Not removed.
    pub active: bool,
    /// Its stake was slashed for proven misbehaviour (its log signed two views).
    pub slashed: bool,
    /// The clinic's registrar.
    pub registrar: bool,
    /// This device.
    pub this_device: bool,
    /// Synced successfully within the last few minutes.
    pub online: bool,
    /// Last successful sync with it (Unix milliseconds), this session.
    pub last_synced_ms: Option<u64>,
    /// Why the last sync with it failed, in plain words.
    pub last_error: Option<String>,
}

/// An invite for one device.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteView {
    /// The ticket text (`hearth-invite1-…`), one use, time limited.
    pub ticket: String,
    /// The ticket as a QR code (an SVG document).
    pub qr_svg: String,
}

/// The result of syncing with one member.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerSync {
    /// The member's endpoint id (hex).
    pub endpoint: String,
    /// Its name.
    pub name: String,
    /// Finished without error.
    pub ok: bool,
    /// Why not, in plain words.
    pub error: Option<String>,
    /// When it finished (Unix milliseconds).
    pub at_ms: u64,
    /// How long it took.
    pub millis: u64,
    /// Documents offered to the peer.
    pub offered: u64,
    /// Whole documents and sync messages sent.
    pub sent: u64,
    /// Documents received that changed something here.
    pub received: u64,
    /// Documents received and refused (no consent).
    pub refused: u64,
    /// Bytes received.
    #[serde(default)]
    pub bytes_in: u64,
    /// Bytes sent.
    #[serde(default)]
    pub bytes_out: u64,
    /// Attachments whose content arrived (after their records).
    #[serde(default)]
    pub files_in: u64,
    /// Bytes of attachment content received.
    #[serde(default)]
    pub file_bytes_in: u64,
    /// Attachments whose content is still to come (the peer lacks it too, or may not share it).
    #[serde(default)]
    pub files_missing: u64,
}

/// A sync in progress with one member.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncProgressView {
    /// The member's name.
    pub name: String,
    /// Documents received so far.
    pub received: u64,
    /// Documents expected from it (known once both manifests are in; 0 before).
    pub incoming: u64,
    /// Bytes received so far.
    pub bytes_in: u64,
    /// Bytes sent so far.
    pub bytes_out: u64,
}
