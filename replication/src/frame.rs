//! Frames: the unit the replicas exchange.
//!
//! ```text
//! offset  size  field
//!      0     4  magic "HBFT"
//!      4     1  protocol version
//!      5     1  kind (which `Message` variant the payload holds)
//!      6     8  sequence number, big-endian, per direction, starting at 0
//!     14     4  payload length, big-endian (at most MAX_PAYLOAD)
//!     18     n  payload: the message, bincode
//!   18+n    32  HMAC-SHA256(key, session ‖ header ‖ payload)
//! ```
//!
//! The tag binds every frame to the pre-shared key and to the session (both
//! replicas' handshake nonces), so a frame from another session, a forged
//! or a corrupted one fails authentication. The sequence number is checked
//! after the tag: a number already seen is a replay, a gap means frames were
//! lost or reordered. Either stops the connection.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Version of the frame layout and of the messages.
pub const PROTOCOL_VERSION: u8 = 3;
const MAGIC: [u8; 4] = *b"HBFT";
/// Bytes before the payload.
pub const HEADER_LEN: usize = 18;
/// Bytes of the authentication tag after the payload.
pub const TAG_LEN: usize = 32;
/// Largest payload accepted (a guest read of up to this size is forwarded whole).
pub const MAX_PAYLOAD: usize = 64 << 20;

type HmacSha256 = Hmac<Sha256>;

/// What the session identifier is before the handshake has fixed it.
pub const NO_SESSION: [u8; 32] = [0; 32];

/// Where the devices a new primary must continue stood at an epoch end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DevicePositions {
    /// Bytes of guest output written to the output device.
    pub output: u64,
    /// Of those, the bytes already performed on the device (the rest is
    /// held by the output rule; a backup that takes over performs it).
    pub performed: u64,
    /// The primary's standard-input offset, when standard input is seekable.
    pub stdin: Option<u64>,
}

/// The payload of [`Message::StepResults`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepResults {
    pub records: Vec<hbft_runtime::journal::EnvRecord>,
    pub devices: DevicePositions,
}

/// Every message of the replication protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// Primary → backup: who I am and what I run.
    Hello(crate::handshake::Hello),
    /// Backup → primary: accepted; the backup's session nonce.
    HelloAck { nonce: [u8; 16] },
    /// Either way: the handshake is refused, and why.
    Refuse { reason: String },
    /// Primary → backup: the environment results of one system call and
    /// where the devices stood after it (a [`StepResults`], bincode). A
    /// system call's results travel together, so a backup that takes over
    /// between two frames does so between two system calls.
    StepResults(Vec<u8>),
    /// Primary → backup: epoch `epoch` ended; its interrupts and state hash
    /// (a journal `EpochEnd`, bincode), and where the shared devices stood.
    EpochEnd { epoch: u64, record: Vec<u8>, devices: DevicePositions },
    /// Primary → backup: the guest ended (a journal `RunEnd`, bincode).
    RunEnd(Vec<u8>),
    /// Primary → backup: the primary is about to perform output; acknowledge
    /// everything so far first (`--sync output`).
    OutputNotice { offset: u64 },
    /// Backup → primary: every frame up to and including sequence `upto` received.
    Ack { upto: u64 },
    /// Either way: I am alive.
    Heartbeat,
    /// Backup → primary: the state hashes of `epoch` differ.
    Diverged { epoch: u64, detail: String },
    /// Either way: orderly end (the guest exited with `status`, or the sender stops).
    Bye { status: i32 },
}

impl Message {
    /// The kind byte of the frame header.
    pub fn kind(&self) -> u8 {
        match self {
            Message::Hello(_) => 1,
            Message::HelloAck { .. } => 2,
            Message::Refuse { .. } => 3,
            Message::StepResults(_) => 4,
            Message::EpochEnd { .. } => 5,
            Message::OutputNotice { .. } => 6,
            Message::Ack { .. } => 7,
            Message::Heartbeat => 8,
            Message::Diverged { .. } => 9,
            Message::Bye { .. } => 10,
            Message::RunEnd(_) => 11,
        }
    }
}

/// Why a received frame was rejected.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameError {
    #[error("frame does not start with the hbft magic (not an hbft peer?)")]
    BadMagic,
    #[error("peer speaks protocol version {got}, this hbft speaks {want}")]
    Version { got: u8, want: u8 },
    #[error("frame payload of {0} bytes exceeds the limit of {MAX_PAYLOAD}")]
    TooLong(usize),
    #[error("frame truncated: {got} bytes, {want} expected")]
    Truncated { got: usize, want: usize },
    #[error("frame {seq} failed authentication (corrupt, or not signed with this key and session)")]
    Unauthenticated { seq: u64 },
    #[error("frame {seq} replayed (next expected is {expected})")]
    Replayed { seq: u64, expected: u64 },
    #[error("frame {seq} out of order (next expected is {expected}; frames lost or reordered)")]
    OutOfOrder { seq: u64, expected: u64 },
    #[error("frame {seq} of kind {kind} has an undecodable payload")]
    BadPayload { seq: u64, kind: u8 },
}

/// Total length of a frame whose header is `header`, or why it is unacceptable.
pub fn frame_len(header: &[u8; HEADER_LEN]) -> Result<usize, FrameError> {
    if header[0..4] != MAGIC {
        return Err(FrameError::BadMagic);
    }
    if header[4] != PROTOCOL_VERSION {
        return Err(FrameError::Version { got: header[4], want: PROTOCOL_VERSION });
    }
    let len = u32::from_be_bytes(header[14..18].try_into().expect("4 bytes")) as usize;
    if len > MAX_PAYLOAD {
        return Err(FrameError::TooLong(len));
    }
    Ok(HEADER_LEN + len + TAG_LEN)
}

fn tag(key: &[u8], session: &[u8; 32], bytes: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(session);
    mac.update(bytes);
    mac
}

/// The MAC of one direction with its key and session already absorbed:
/// each frame's tag starts from a copy, which spares the key schedule (two
/// SHA-256 blocks) per frame.
#[derive(Clone)]
struct Keyed {
    key: Vec<u8>,
    mac: HmacSha256,
}

impl Keyed {
    fn new(key: &[u8]) -> Keyed {
        Keyed { key: key.to_vec(), mac: tag(key, &NO_SESSION, &[]) }
    }

    fn set_session(&mut self, session: [u8; 32]) {
        self.mac = tag(&self.key, &session, &[]);
    }

    /// The tag of `bytes` (`tag(key, session, bytes)`).
    fn tag(&self, bytes: &[u8]) -> HmacSha256 {
        let mut mac = self.mac.clone();
        mac.update(bytes);
        mac
    }
}

/// The sending half: numbers and signs outgoing frames.
pub struct Sealer {
    keyed: Keyed,
    next_seq: u64,
}

impl Sealer {
    pub fn new(key: &[u8]) -> Sealer {
        Sealer { keyed: Keyed::new(key), next_seq: 0 }
    }

    /// Binds later frames to the session fixed by the handshake.
    pub fn set_session(&mut self, session: [u8; 32]) {
        self.keyed.set_session(session);
    }

    /// The sequence number the next sealed frame gets.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The frame carrying `message`.
    pub fn seal(&mut self, message: &Message) -> Vec<u8> {
        let payload = bincode::serialize(message).expect("messages always serialize");
        assert!(payload.len() <= MAX_PAYLOAD, "message of {} bytes exceeds MAX_PAYLOAD", payload.len());
        let mut frame = Vec::with_capacity(HEADER_LEN + payload.len() + TAG_LEN);
        frame.extend_from_slice(&MAGIC);
        frame.push(PROTOCOL_VERSION);
        frame.push(message.kind());
        frame.extend_from_slice(&self.next_seq.to_be_bytes());
        frame.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        frame.extend_from_slice(&payload);
        let code = self.keyed.tag(&frame).finalize().into_bytes();
        frame.extend_from_slice(&code);
        self.next_seq += 1;
        frame
    }
}

/// The receiving half: authenticates incoming frames and enforces their order.
pub struct Opener {
    keyed: Keyed,
    expected_seq: u64,
}

impl Opener {
    pub fn new(key: &[u8]) -> Opener {
        Opener { keyed: Keyed::new(key), expected_seq: 0 }
    }

    pub fn set_session(&mut self, session: [u8; 32]) {
        self.keyed.set_session(session);
    }

    /// The message in `frame` (a whole frame, header to tag) and its sequence number.
    pub fn open(&mut self, frame: &[u8]) -> Result<(u64, Message), FrameError> {
        if frame.len() < HEADER_LEN {
            return Err(FrameError::Truncated { got: frame.len(), want: HEADER_LEN });
        }
        let header: &[u8; HEADER_LEN] = frame[..HEADER_LEN].try_into().expect("header length");
        let want = frame_len(header)?;
        if frame.len() != want {
            return Err(FrameError::Truncated { got: frame.len(), want });
        }
        let seq = u64::from_be_bytes(frame[6..14].try_into().expect("8 bytes"));
        let (body, code) = frame.split_at(want - TAG_LEN);
        self.keyed
            .tag(body)
            .verify_slice(code)
            .map_err(|_| FrameError::Unauthenticated { seq })?;
        if seq < self.expected_seq {
            return Err(FrameError::Replayed { seq, expected: self.expected_seq });
        }
        if seq > self.expected_seq {
            return Err(FrameError::OutOfOrder { seq, expected: self.expected_seq });
        }
        let kind = frame[5];
        let message: Message = bincode::deserialize(&body[HEADER_LEN..])
            .ok()
            .filter(|m: &Message| m.kind() == kind)
            .ok_or(FrameError::BadPayload { seq, kind })?;
        self.expected_seq += 1;
        Ok((seq, message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"a pre-shared key of some length";

    fn pair() -> (Sealer, Opener) {
        (Sealer::new(KEY), Opener::new(KEY))
    }

    #[test]
    fn round_trip_in_order() {
        let (mut s, mut o) = pair();
        let messages = [
            Message::Heartbeat,
            Message::StepResults(vec![1, 2, 3]),
            Message::EpochEnd { epoch: 7, record: vec![9; 40], devices: DevicePositions { output: 5, performed: 4, stdin: Some(3) } },
            Message::RunEnd(vec![1]),
            Message::Ack { upto: 2 },
            Message::Bye { status: 3 },
        ];
        for (i, m) in messages.iter().enumerate() {
            let frame = s.seal(m);
            assert_eq!(o.open(&frame), Ok((i as u64, m.clone())));
        }
    }

    #[test]
    fn every_flipped_bit_is_rejected() {
        let (mut s, _) = pair();
        let frame = s.seal(&Message::StepResults(b"hello".to_vec()));
        for bit in 0..frame.len() * 8 {
            let mut bad = frame.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            let mut o = Opener::new(KEY);
            assert!(o.open(&bad).is_err(), "bit {bit} flipped was accepted");
        }
    }

    #[test]
    fn corrupt_payload_is_unauthenticated() {
        let (mut s, mut o) = pair();
        let mut frame = s.seal(&Message::StepResults(b"hello".to_vec()));
        frame[HEADER_LEN + 3] ^= 0x40;
        assert_eq!(o.open(&frame), Err(FrameError::Unauthenticated { seq: 0 }));
    }

    #[test]
    fn wrong_key_is_unauthenticated() {
        let mut s = Sealer::new(b"another key");
        let mut o = Opener::new(KEY);
        let frame = s.seal(&Message::Heartbeat);
        assert_eq!(o.open(&frame), Err(FrameError::Unauthenticated { seq: 0 }));
    }

    #[test]
    fn other_session_is_unauthenticated() {
        let (mut s, mut o) = pair();
        s.set_session([1; 32]);
        o.set_session([2; 32]);
        assert_eq!(o.open(&s.seal(&Message::Heartbeat)), Err(FrameError::Unauthenticated { seq: 0 }));
    }

    #[test]
    fn replayed_frame_is_rejected() {
        let (mut s, mut o) = pair();
        let first = s.seal(&Message::Heartbeat);
        o.open(&first).unwrap();
        o.open(&s.seal(&Message::Heartbeat)).unwrap();
        assert_eq!(o.open(&first), Err(FrameError::Replayed { seq: 0, expected: 2 }));
    }

    #[test]
    fn skipped_frame_is_out_of_order() {
        let (mut s, mut o) = pair();
        let _lost = s.seal(&Message::Heartbeat);
        let second = s.seal(&Message::Ack { upto: 0 });
        assert_eq!(o.open(&second), Err(FrameError::OutOfOrder { seq: 1, expected: 0 }));
    }

    #[test]
    fn header_checks() {
        let (mut s, mut o) = pair();
        let frame = s.seal(&Message::Heartbeat);
        let mut bad = frame.clone();
        bad[0] = b'X';
        assert_eq!(o.open(&bad), Err(FrameError::BadMagic));
        let mut bad = frame.clone();
        bad[4] = PROTOCOL_VERSION + 1;
        assert_eq!(o.open(&bad), Err(FrameError::Version { got: PROTOCOL_VERSION + 1, want: PROTOCOL_VERSION }));
        let mut bad = frame.clone();
        bad[14..18].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(o.open(&bad), Err(FrameError::TooLong(u32::MAX as usize)));
        assert_eq!(o.open(&frame[..frame.len() - 1]), Err(FrameError::Truncated { got: frame.len() - 1, want: frame.len() }));
        assert_eq!(o.open(&frame[..5]), Err(FrameError::Truncated { got: 5, want: HEADER_LEN }));
    }

    #[test]
    fn kind_must_match_payload() {
        // A correctly signed frame whose header kind lies about its payload.
        let (mut s, mut o) = pair();
        let mut frame = s.seal(&Message::Heartbeat);
        frame[5] = Message::Bye { status: 0 }.kind();
        let body_len = frame.len() - TAG_LEN;
        let code = tag(KEY, &NO_SESSION, &frame[..body_len]).finalize().into_bytes();
        frame[body_len..].copy_from_slice(&code);
        assert_eq!(o.open(&frame), Err(FrameError::BadPayload { seq: 0, kind: 10 }));
    }
}
