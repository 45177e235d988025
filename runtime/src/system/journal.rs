//! The board's journal: system mode on the record/replay and replication
//! plumbing of [`crate::journal`].
//!
//! The environment of a guest kernel is its board: what the console
//! receives, what the disk holds, and when a disk transfer completes. A
//! live board answers from its devices and hands every such result to an
//! [`EpochSink`] (the log of `hbft system --record`, or a replication
//! primary's link): an [`EnvRecord::DeviceRead`] for each read of an
//! outside-world register (console input, disk capacity), an
//! [`EnvRecord::DiskDone`] with the status and read data of a transfer in
//! the epoch whose end it completes at, and the [`EpochEnd`] with the state
//! hash. Console output is not an environment result: it is a function of
//! the guest's execution, so a replaying board regenerates it.
//!
//! A replaying board reads the same entries from an [`EpochSource`] and
//! never touches the disk image. When the source says
//! [`EpochStart::GoLive`] (the primary died), the board asks its owner for
//! live devices ([`LiveDevices`]) and continues live from that epoch's
//! start; the transfer it had in flight becomes uncertain (see
//! [`super::board`]).

use std::io::Write;

use crate::journal::{
    describe, EnvRecord, Entry, EpochEnd, EpochSink, EpochSource, EpochStart, JournalError, ReplayError, RunEnd,
};

use super::board::DiskImage;

/// The devices a replaying board continues with when it goes live.
pub struct LiveDevices {
    pub console: Box<dyn Write>,
    /// The disk image, if the board has a disk.
    pub disk: Option<Box<dyn DiskImage>>,
}

/// Builds the live devices when the source says the journal ends (a
/// backup taking over).
pub type GoLive = Box<dyn FnMut() -> Result<LiveDevices, JournalError>>;

enum Mode {
    /// The devices answer; results go to the sink, if any.
    Live(Option<Box<dyn EpochSink>>),
    /// Results come from the source.
    Replay { source: Box<dyn EpochSource>, go_live: GoLive, peeked: Option<Entry> },
}

/// Where a board's environment results go or come from.
pub struct Journal {
    mode: Mode,
    /// The epoch being executed.
    epoch: u64,
    /// The first discrepancy found while a device register was read (a read
    /// cannot return an error to the guest; the run loop stops on it).
    failure: Option<ReplayError>,
    /// Environment results recorded or replayed.
    pub events: u64,
}

impl Journal {
    /// A live board handing its results to `sink` (none: an unrecorded run).
    pub fn live(sink: Option<Box<dyn EpochSink>>) -> Journal {
        Journal { mode: Mode::Live(sink), epoch: 0, failure: None, events: 0 }
    }

    /// A board retracing `source`; `go_live` supplies the devices if the
    /// source ends early.
    pub fn replay(source: Box<dyn EpochSource>, go_live: GoLive) -> Journal {
        Journal { mode: Mode::Replay { source, go_live, peeked: None }, epoch: 0, failure: None, events: 0 }
    }

    pub fn is_replaying(&self) -> bool {
        matches!(self.mode, Mode::Replay { .. })
    }

    /// The epoch being executed.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Epoch `epoch` starts. Returns the live devices if the board goes
    /// live here.
    pub fn begin_epoch(&mut self, epoch: u64) -> Result<Option<LiveDevices>, ReplayError> {
        self.epoch = epoch;
        let Mode::Replay { source, go_live, .. } = &mut self.mode else { return Ok(None) };
        match source.begin_epoch(epoch).map_err(ReplayError::Journal)? {
            EpochStart::Recorded => Ok(None),
            EpochStart::GoLive(takeover) => {
                // The takeover's Linux environment has no use on a board;
                // its sink (if any) receives the rest of the run.
                let devices = go_live().map_err(ReplayError::Journal)?;
                self.mode = Mode::Live(takeover.sink);
                Ok(Some(devices))
            }
        }
    }

    fn record(&mut self, record: EnvRecord) {
        self.events += 1;
        if let Mode::Live(Some(sink)) = &mut self.mode {
            if let Err(error) = sink.env_result(&record) {
                self.failure.get_or_insert(ReplayError::Journal(error));
            }
        }
    }

    fn next(&mut self) -> Result<Entry, ReplayError> {
        let Mode::Replay { source, peeked, .. } = &mut self.mode else { unreachable!("only a replaying board reads") };
        match peeked.take() {
            Some(entry) => Ok(entry),
            None => source.next_entry().map_err(ReplayError::Journal),
        }
    }

    fn diverged(&self, called: &'static str, entry: &Entry) -> ReplayError {
        ReplayError::Call { epoch: self.epoch, called, recorded: describe(entry) }
    }

    /// A read of an outside-world device register: `live` answers it on a
    /// live board, the journal on a replaying one.
    pub fn device_read(&mut self, addr: u32, live: impl FnOnce() -> u32) -> u32 {
        if !self.is_replaying() {
            let value = live();
            self.record(EnvRecord::DeviceRead { addr, value });
            return value;
        }
        if self.failure.is_some() {
            return u32::MAX;
        }
        match self.next() {
            Ok(Entry::Env(EnvRecord::DeviceRead { addr: recorded, value })) if recorded == addr => {
                self.events += 1;
                value
            }
            Ok(entry) => {
                self.failure = Some(self.diverged("device_read", &entry));
                u32::MAX
            }
            Err(error) => {
                self.failure = Some(error);
                u32::MAX
            }
        }
    }

    /// A live board's disk transfer completed at this epoch's end.
    pub fn record_disk_done(&mut self, status: u32, data: &[u8]) {
        self.record(EnvRecord::DiskDone { status, data: data.to_vec() });
    }

    /// A replaying board at an epoch end: the transfer completion the
    /// journal holds here, if any.
    pub fn replayed_disk_done(&mut self) -> Result<Option<(u32, Vec<u8>)>, ReplayError> {
        match self.next()? {
            Entry::Env(EnvRecord::DiskDone { status, data }) => {
                self.events += 1;
                Ok(Some((status, data)))
            }
            other => {
                let Mode::Replay { peeked, .. } = &mut self.mode else { unreachable!() };
                *peeked = Some(other);
                Ok(None)
            }
        }
    }

    /// The guest's console output is about to be performed.
    pub fn before_output(&mut self) -> Result<(), ReplayError> {
        match &mut self.mode {
            Mode::Live(Some(sink)) => sink.before_output().map_err(ReplayError::Journal),
            _ => Ok(()),
        }
    }

    /// The first discrepancy found by a device read, if any.
    pub fn check(&mut self) -> Result<(), ReplayError> {
        self.failure.take().map_or(Ok(()), Err)
    }

    /// The end of the current epoch: handed to the sink (a primary returns
    /// once its backup has it), or checked against the journal.
    pub fn epoch_end(&mut self, end: EpochEnd) -> Result<(), ReplayError> {
        self.check()?;
        if !self.is_replaying() {
            if let Mode::Live(Some(sink)) = &mut self.mode {
                sink.epoch_end(&end).map_err(ReplayError::Journal)?;
            }
            return Ok(());
        }
        match self.next()? {
            Entry::EpochEnd(recorded) if recorded.epoch == end.epoch && recorded.retired == end.retired => {
                same_hash(end.epoch, end.state_hash, recorded.state_hash)
            }
            other => Err(ReplayError::State {
                epoch: self.epoch,
                what: format!("the board reached {}, the journal has {}", describe(&Entry::EpochEnd(end)), describe(&other)),
            }),
        }
    }

    /// The guest powered the board off.
    pub fn run_end(&mut self, end: RunEnd) -> Result<(), ReplayError> {
        self.check()?;
        if !self.is_replaying() {
            if let Mode::Live(Some(sink)) = &mut self.mode {
                sink.run_end(&end).map_err(ReplayError::Journal)?;
            }
            return Ok(());
        }
        match self.next()? {
            Entry::RunEnd(recorded) if recorded.retired == end.retired && recorded.exit_status == end.exit_status => {
                same_hash(self.epoch, end.state_hash, recorded.state_hash)
            }
            other => Err(ReplayError::State {
                epoch: self.epoch,
                what: format!("the board reached {}, the journal has {}", describe(&Entry::RunEnd(end)), describe(&other)),
            }),
        }
    }
}

fn same_hash(epoch: u64, ours: u64, recorded: u64) -> Result<(), ReplayError> {
    if ours == recorded {
        return Ok(());
    }
    Err(ReplayError::State { epoch, what: format!("state hash {ours:016x}, recorded {recorded:016x}") })
}
