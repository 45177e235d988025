//! The handshake: both replicas must run the same guest the same way.
//!
//! The primary sends [`Hello`]: its guest's identity (SHA-256 of the
//! program, the arguments, the epoch length), the guest environment strings
//! and `argv[0]` (the guest sees the primary's, so the backup adopts them),
//! the synchronization rule and a nonce. The backup compares the identity
//! with its own and answers `HelloAck` with its nonce, or `Refuse` with the
//! first difference; a refusal is an error on both sides. Afterwards every
//! frame is bound to the session `SHA-256(primary nonce ‖ backup nonce)`,
//! so frames recorded in another session are rejected.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::connection::{Connection, PeerGone};
use crate::frame::{Message, PROTOCOL_VERSION};

/// What must be identical on both replicas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuestIdentity {
    /// SHA-256 of the guest program file.
    pub binary_sha256: [u8; 32],
    /// The guest's arguments, `argv[0]` excluded (the path may differ between hosts).
    pub args: Vec<Vec<u8>>,
    /// Instructions per epoch.
    pub epoch_len: u64,
}

impl GuestIdentity {
    /// The identity of the program `bytes` run with `args` and epochs of `epoch_len`.
    pub fn new(bytes: &[u8], args: Vec<Vec<u8>>, epoch_len: u64) -> GuestIdentity {
        GuestIdentity { binary_sha256: Sha256::digest(bytes).into(), args, epoch_len }
    }

    /// The first difference from `other` (ours), in words; `None` if identical.
    fn difference(&self, ours: &GuestIdentity) -> Option<String> {
        if self.binary_sha256 != ours.binary_sha256 {
            return Some(format!(
                "different guest program (primary {}, backup {})",
                short_hex(&self.binary_sha256),
                short_hex(&ours.binary_sha256)
            ));
        }
        if self.args != ours.args {
            return Some(format!(
                "different guest arguments (primary {:?}, backup {:?})",
                shown_args(&self.args),
                shown_args(&ours.args)
            ));
        }
        if self.epoch_len != ours.epoch_len {
            return Some(format!(
                "different epoch length (primary {}, backup {})",
                self.epoch_len, ours.epoch_len
            ));
        }
        None
    }
}

fn short_hex(bytes: &[u8]) -> String {
    bytes[..6].iter().map(|b| format!("{b:02x}")).collect()
}

fn shown_args(args: &[Vec<u8>]) -> Vec<String> {
    args.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect()
}

/// When the primary waits for the backup's acknowledgment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum SyncRule {
    /// At every epoch end, before delivering the epoch's interrupts (the paper's rule).
    #[default]
    Epoch,
    /// Only before the primary's next output (VMware FT's output rule).
    Output,
}

/// The primary's opening message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    pub version: u8,
    pub identity: GuestIdentity,
    /// The guest's `argv[0]` (the program path as the primary was given it).
    pub argv0: Vec<u8>,
    /// The guest's environment strings (`NAME=value`).
    pub envp: Vec<Vec<u8>>,
    pub sync: SyncRule,
    pub nonce: [u8; 16],
}

/// Why the replicas did not agree to work together.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    #[error("backup refused: {0}")]
    RefusedByBackup(String),
    #[error("refused the primary: {0}")]
    RefusedPrimary(String),
    #[error("handshake: peer failed: {0}")]
    Peer(#[from] PeerGone),
    #[error("handshake: unexpected message of kind {0}")]
    Unexpected(u8),
    #[error("handshake: cannot send: {0}")]
    Send(#[from] crate::transport::LinkError),
}

/// How long either side waits for the other's handshake message: the
/// peer is starting (loading its guest, hashing it), not yet heartbeating.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The next message, waiting up to [`HANDSHAKE_TIMEOUT`].
fn recv_handshake(conn: &mut Connection) -> Result<Message, HandshakeError> {
    let detection = conn.receiver.set_timeout(HANDSHAKE_TIMEOUT);
    let received = conn.receiver.recv();
    conn.receiver.set_timeout(detection);
    Ok(received?.1)
}

/// 16 unpredictable bytes from the host.
pub fn nonce() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    // A failure leaves zeros: the session id then only depends on the other
    // side's nonce, which weakens replay protection but not authentication.
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = std::io::Read::read_exact(&mut f, &mut bytes);
    }
    bytes
}

fn session(primary: &[u8; 16], backup: &[u8; 16]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(primary);
    h.update(backup);
    h.finalize().into()
}

/// The primary's side: offers `identity`; on success the session is set.
pub fn offer(
    conn: &mut Connection,
    identity: GuestIdentity,
    argv0: Vec<u8>,
    envp: Vec<Vec<u8>>,
    sync: SyncRule,
) -> Result<(), HandshakeError> {
    let ours = nonce();
    let hello = Hello { version: PROTOCOL_VERSION, identity, argv0, envp, sync, nonce: ours };
    conn.sender.send(&Message::Hello(hello))?;
    match recv_handshake(conn)? {
        Message::HelloAck { nonce: theirs } => {
            conn.set_session(session(&ours, &theirs));
            Ok(())
        }
        Message::Refuse { reason } => Err(HandshakeError::RefusedByBackup(reason)),
        other => Err(HandshakeError::Unexpected(other.kind())),
    }
}

/// The backup's side: accepts a primary running `ours`; returns its hello.
pub fn accept(conn: &mut Connection, ours: &GuestIdentity) -> Result<Hello, HandshakeError> {
    let hello = match recv_handshake(conn)? {
        Message::Hello(hello) => hello,
        other => return Err(HandshakeError::Unexpected(other.kind())),
    };
    if let Some(reason) = hello.identity.difference(ours) {
        // Best effort: the primary may already be gone.
        let _ = conn.sender.send(&Message::Refuse { reason: reason.clone() });
        return Err(HandshakeError::RefusedPrimary(reason));
    }
    let mine = nonce();
    conn.sender.send(&Message::HelloAck { nonce: mine })?;
    conn.set_session(session(&hello.nonce, &mine));
    Ok(hello)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::DEFAULT_TIMEOUT;
    use crate::transport::in_process_pair;

    fn identity(prog: &[u8], epoch_len: u64) -> GuestIdentity {
        GuestIdentity::new(prog, vec![b"30".to_vec()], epoch_len)
    }

    fn handshake(
        primary: GuestIdentity,
        backup: GuestIdentity,
    ) -> (Result<(), HandshakeError>, Result<Hello, HandshakeError>, Connection, Connection) {
        let (a, b) = in_process_pair();
        let mut p = Connection::new(a, b"k", DEFAULT_TIMEOUT);
        let mut q = Connection::new(b, b"k", DEFAULT_TIMEOUT);
        let backup_side = std::thread::spawn(move || (accept(&mut q, &backup), q));
        let offered = offer(&mut p, primary, b"prog".to_vec(), vec![b"A=1".to_vec()], SyncRule::Output);
        let (accepted, q) = backup_side.join().unwrap();
        (offered, accepted, p, q)
    }

    #[test]
    fn same_guest_is_accepted_and_session_bound() {
        let (offered, accepted, p, mut q) = handshake(identity(b"prog", 1000), identity(b"prog", 1000));
        offered.unwrap();
        let hello = accepted.unwrap();
        assert_eq!(hello.envp, vec![b"A=1".to_vec()]);
        assert_eq!(hello.sync, SyncRule::Output);
        p.sender.send(&Message::Bye { status: 0 }).unwrap();
        assert_eq!(q.receiver.recv().unwrap().1, Message::Bye { status: 0 });
    }

    #[test]
    fn different_binary_is_refused_on_both_sides() {
        let (offered, accepted, ..) = handshake(identity(b"prog", 1000), identity(b"other", 1000));
        let p = offered.unwrap_err().to_string();
        let b = accepted.unwrap_err().to_string();
        assert!(p.starts_with("backup refused: different guest program"), "{p}");
        assert!(b.starts_with("refused the primary: different guest program"), "{b}");
    }

    #[test]
    fn different_epoch_length_is_refused() {
        let (offered, accepted, ..) = handshake(identity(b"prog", 1000), identity(b"prog", 4096));
        assert_eq!(
            offered.unwrap_err().to_string(),
            "backup refused: different epoch length (primary 1000, backup 4096)"
        );
        assert!(accepted.is_err());
    }

    #[test]
    fn different_arguments_are_refused() {
        let mut other = identity(b"prog", 1000);
        other.args = vec![b"31".to_vec()];
        let (offered, ..) = handshake(identity(b"prog", 1000), other);
        assert!(offered.unwrap_err().to_string().contains("different guest arguments"));
    }
}
