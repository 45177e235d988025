//! A primary and a backup in one process, over in-process links, with a
//! relay between them that alters the state hash of one epoch end (and
//! re-signs the frame, as a replica with a bug would send it). The backup
//! must stop at that epoch with a divergence report, and the primary must
//! stop too when the report reaches it.

use std::path::PathBuf;
use std::time::Duration;

use hbft_replication::backup::{BackupSource, LiveOutput};
use hbft_replication::connection::Connection;
use hbft_replication::frame::{Message, Opener, Sealer};
use hbft_replication::handshake::SyncRule;
use hbft_replication::primary::PrimarySink;
use hbft_replication::transport::{in_process_pair, LinkRx, LinkTx};
use hbft_runtime::journal::{EpochEnd, ReplayError, ReplayOutput};
use hbft_runtime::linux::HostEnvironment;
use hbft_runtime::user_mode::{Journaling, RunError, UserMode, UserModeConfig};

const KEY: &[u8] = b"divergence test key, 32 bytes..";
const EPOCH: u64 = 65536;
const TAMPERED: u64 = 2;
const WAIT: Duration = Duration::from_secs(30);

fn guest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../guests/prebuilt/cpu_bound-O2")
}

fn config() -> UserModeConfig {
    UserModeConfig {
        argv: vec![b"cpu_bound".to_vec(), b"10".to_vec()],
        envp: vec![],
        epoch: Some(EPOCH),
        ..UserModeConfig::default()
    }
}

/// Forwards the primary's frames, changing the state hash of epoch
/// `TAMPERED`'s end and re-signing every frame.
fn tamper(mut from: Box<dyn LinkRx>, mut to: Box<dyn LinkTx>) {
    let (mut opener, mut sealer) = (Opener::new(KEY), Sealer::new(KEY));
    while let Ok(frame) = from.recv(WAIT) {
        let Ok((_, mut message)) = opener.open(&frame) else { return };
        if let Message::EpochEnd { epoch: TAMPERED, record, .. } = &mut message {
            let mut end: EpochEnd = bincode::deserialize(record).unwrap();
            end.state_hash ^= 1;
            *record = bincode::serialize(&end).unwrap();
        }
        if to.send(&sealer.seal(&message)).is_err() {
            return;
        }
    }
}

/// Forwards frames unchanged.
fn relay(mut from: Box<dyn LinkRx>, mut to: Box<dyn LinkTx>) {
    while let Ok(frame) = from.recv(WAIT) {
        if to.send(&frame).is_err() {
            return;
        }
    }
}

#[test]
fn a_different_state_hash_stops_backup_and_primary() {
    let (primary_link, (relay_to_primary, relay_from_primary)) = in_process_pair();
    let ((relay_to_backup, relay_from_backup), backup_link) = in_process_pair();
    std::thread::spawn(move || tamper(relay_from_primary, relay_to_backup));
    std::thread::spawn(move || relay(relay_from_backup, relay_to_primary));

    let primary = std::thread::spawn(move || {
        let sink = PrimarySink::start(Connection::new(primary_link, KEY, WAIT), SyncRule::Epoch, WAIT);
        let journaling = Journaling::Live { env: Box::new(HostEnvironment), sink: Some(Box::new(sink)) };
        let mut vm = UserMode::load_with(&guest(), &config(), journaling).unwrap();
        vm.run().map(|report| report.retired).map_err(|e| e.to_string())
    });

    let output = LiveOutput::new(None);
    let (source, sender, _) = BackupSource::start(Connection::new(backup_link, KEY, WAIT), EPOCH, output, WAIT);
    let journaling = Journaling::Replay { source: Box::new(source), output: ReplayOutput::Suppress };
    let mut vm = UserMode::load_with(&guest(), &config(), journaling).unwrap();
    match vm.run() {
        Err(RunError::Replay(ReplayError::State { epoch, what })) => {
            assert_eq!(epoch, TAMPERED, "{what}");
            assert!(what.starts_with("state hash"), "{what}");
            sender.send(&Message::Diverged { epoch, detail: what }).unwrap();
        }
        other => panic!("the backup did not detect the divergence: {:?}", other.map(|r| r.retired)),
    }

    let error = primary.join().unwrap().expect_err("the primary must stop");
    assert!(error.starts_with("DIVERGENCE: the backup's state differs in epoch 2: state hash"), "{error}");
}
