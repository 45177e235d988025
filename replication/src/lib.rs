//! hbft-replication: primary/backup replication in the manner of Bressoud and
//! Schneider's hypervisor-based fault tolerance.
//!
//! The protocol (environment results forwarded as produced, interrupts and a
//! state hash at each epoch end, acknowledgment before delivery), its
//! transports (TCP with authenticated frames, in-process), the record/replay
//! log, failure detection and failover with fenced shared devices.
