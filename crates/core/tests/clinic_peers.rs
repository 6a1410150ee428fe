//! Where clinic members were reached is kept sealed with the clinic, for the next start;
//! only active members are remembered.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use hearth_core::{Hearth, HearthOptions};

#[test]
fn member_addresses_are_remembered_across_restarts_and_only_for_members() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.hearth");
    let pass = "correct horse battery staple";
    let h = Hearth::create(&path, pass, HearthOptions::default().idle_lock(None)).unwrap();
    assert!(
        h.known_peers().unwrap().is_empty(),
        "no clinic, nothing known"
    );
    let listen: SocketAddr = "127.0.0.1:47001".parse().unwrap();
    let info = h
        .clinic_create("Elm Street", "desk", "clinician", listen, false)
        .unwrap();
    let me: [u8; 32] = hex::decode(&info.endpoint).unwrap().try_into().unwrap();
    let addrs: Vec<SocketAddr> = vec!["192.0.2.7:47001".parse().unwrap()];
    // Not a member: ignored.
    h.remember_peer([9; 32], &addrs).unwrap();
    assert!(h.known_peers().unwrap().is_empty());
    h.remember_peer(me, &addrs).unwrap();
    drop(h);
    let h = Hearth::open_unlocked(&path, pass, HearthOptions::default().idle_lock(None)).unwrap();
    assert_eq!(h.known_peers().unwrap(), vec![(me, addrs)]);
    // Nothing in clear on disk.
    for f in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(f.unwrap().path()).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains("192.0.2.7"));
    }
}

#[test]
fn sync_is_background_work_and_never_keeps_an_idle_vault_open() {
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let clock = hearth_vault::ManualClock::starting_at(1_700_000_000_000);
    let h = Hearth::create(
        &dir.path().join("v.hearth"),
        "correct horse battery staple",
        HearthOptions::default()
            .clock(clock.clone())
            .idle_lock(Some(Duration::from_secs(60))),
    )
    .unwrap();
    h.clinic_create(
        "Elm Street",
        "desk",
        "clinician",
        "127.0.0.1:47002".parse().unwrap(),
        false,
    )
    .unwrap();
    clock.advance(Duration::from_secs(59));
    // What a sync session does with the store, the way the transport runs it.
    let store = h.sync_store();
    let mut seen = false;
    store.in_background(&mut || seen = store.clinic().unwrap().is_some());
    assert!(seen, "the store works in the background");
    clock.advance(Duration::from_secs(1));
    assert!(h.is_locked(), "a sync kept the idle vault open");
}
