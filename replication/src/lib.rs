//! hbft-replication: primary/backup replication in the manner of Bressoud and
//! Schneider's hypervisor-based fault tolerance.
//!
//! The protocol (environment results forwarded as produced, interrupts and a
//! state hash at each epoch end, acknowledgment before delivery), its
//! transports (TCP with authenticated frames, in-process), the record/replay
//! log, failure detection and failover with fenced shared devices.
//!
//! - [`frame`]: versioned, sequence-numbered, HMAC-authenticated frames.
//! - [`transport`]: TCP and in-process links that carry whole frames.
//! - [`connection`]: an authenticated connection, heartbeats, failure detection.
//! - [`handshake`]: both replicas must run the same guest the same way.
//! - [`log`]: the record/replay log (writer and reader of one schema).
//! - [`output`]: the shared output device with positional writes and a fence.
//! - [`devices`]: the guest's standard streams on that device, as an environment layer.
//! - [`primary`]: the journal sink that forwards to the backup and waits for its acks.
//! - [`backup`]: the journal source fed by the primary; failover.

pub mod backup;
pub mod connection;
pub mod devices;
pub mod frame;
pub mod handshake;
pub mod log;
pub mod output;
pub mod primary;
pub mod transport;
