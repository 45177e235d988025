//! The backup's side of the protocol: an [`EpochSource`] fed by the primary.
//!
//! A thread receives the primary's frames, acknowledges every run end and
//! output notice as soon as it has it, and queues the journal entries. The
//! run loop executes epoch E only once E's end is queued, and acknowledges
//! E's end when it starts executing E: the backup then has all of E's data
//! and has finished E-1, so it runs at most one epoch behind the primary
//! (which waits for that acknowledgment under `--sync epoch`), never lacks
//! an environment result, and has at most one epoch to finish at failover.
//!
//! When the primary fails, the backup finishes every epoch it has whole,
//! drops the results of the unfinished one, and goes live at that epoch's
//! start: it takes the output device's fence, continues the output stream
//! and standard input where they stood at the end of the last complete
//! epoch (writes the primary already performed in the unfinished epoch are
//! reissued at the same positions: idempotent), and prints one line of
//! account.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use hbft_runtime::journal::{Entry, EpochSource, EpochStart, JournalError, Takeover};
use hbft_runtime::linux::{Environment, HostEnvironment};

use crate::connection::{heartbeat_interval, Connection, Heartbeats, Receiver, Sender};
use crate::devices::{DeviceEnvironment, OutputPort};
use crate::frame::{DevicePositions, Message};
use crate::output::OutputDevice;

/// What the receiving thread hands the run loop.
enum Incoming {
    /// A journal entry; an epoch end comes with its device positions and
    /// its frame's sequence number (for the acknowledgment).
    Entry(Entry, Option<(DevicePositions, u64)>),
    /// The primary failed.
    Gone(Failure),
    /// A frame that is not journal data where journal data was expected.
    Broken(String),
}

/// How the primary's failure was detected.
#[derive(Debug, Clone)]
pub struct Failure {
    pub cause: String,
    /// Time from the primary's last frame to the detection.
    pub detection: Duration,
    pub detected_at: Instant,
}

/// The backup becoming primary, for the final report.
#[derive(Debug, Clone)]
pub struct Failover {
    pub failure: Failure,
    /// The first epoch the backup ran live, and the instruction count there.
    pub epoch: u64,
    pub retired: u64,
    /// From detection to running live (including finishing the complete epochs).
    pub takeover: Duration,
    /// The output fence generation taken, if there is an output device.
    pub generation: Option<u64>,
    /// Journal entries of the unfinished epoch that were dropped.
    pub dropped: usize,
}

impl Failover {
    /// The one-line account.
    pub fn account(&self) -> String {
        let fence = self.generation.map_or(String::new(), |g| format!(", output fence generation {g}"));
        format!(
            "primary failed ({}); live from epoch {} at {} instructions: detection {:.1} ms, takeover {:.1} ms{fence}",
            self.failure.cause,
            self.epoch,
            self.retired,
            ms(self.failure.detection),
            ms(self.takeover),
        )
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, String> {
    bincode::deserialize(bytes).map_err(|e| format!("undecodable {what} from the primary: {e}"))
}

fn receive(mut receiver: Receiver, sender: Sender, queue: mpsc::Sender<Incoming>) {
    let mut ended = false;
    loop {
        let item = match receiver.recv() {
            Ok((seq, message)) => {
                if matches!(message, Message::RunEnd(_) | Message::OutputNotice { .. }) {
                    // A failed ack shows up as a failed receive next.
                    let _ = sender.send(&Message::Ack { upto: seq });
                }
                let entry = match message {
                    Message::EnvResult(bytes) => decode(&bytes, "environment result").map(|r| (Entry::Env(r), None)),
                    Message::EpochEnd { record, devices, .. } => {
                        decode(&record, "epoch end").map(|e| (Entry::EpochEnd(e), Some((devices, seq))))
                    }
                    Message::RunEnd(bytes) => {
                        ended = true;
                        decode(&bytes, "run end").map(|e| (Entry::RunEnd(e), None))
                    }
                    Message::OutputNotice { .. } | Message::Bye { .. } => continue,
                    other => Err(format!("unexpected message of kind {} from the primary", other.kind())),
                };
                match entry {
                    Ok((entry, devices)) => Incoming::Entry(entry, devices),
                    Err(why) => Incoming::Broken(why),
                }
            }
            // After the run's end, the primary closing is its orderly exit.
            Err(_) if ended => return,
            Err(gone) => Incoming::Gone(Failure {
                cause: gone.cause.to_string(),
                detection: gone.silent_for,
                detected_at: Instant::now(),
            }),
        };
        let last = !matches!(item, Incoming::Entry(..));
        if queue.send(item).is_err() || last {
            return;
        }
    }
}

/// Where a backup that goes live sends the guest's output.
pub struct LiveOutput {
    /// The shared output device, if any (else the backup's own standard streams).
    pub path: Option<PathBuf>,
    /// Set at go-live: the port, for the final `finish`.
    pub port: Rc<RefCell<Option<OutputPort>>>,
}

/// The journal source of a replicating backup.
pub struct BackupSource {
    incoming: mpsc::Receiver<Incoming>,
    pending: VecDeque<(Entry, Option<DevicePositions>)>,
    /// Sequence numbers of the queued epoch ends' frames, by epoch.
    end_frames: BTreeMap<u64, u64>,
    /// The last epoch whose end is queued.
    complete_through: Option<u64>,
    run_ended: bool,
    failure: Option<Failure>,
    /// Device positions at the end of the last epoch replayed.
    devices: DevicePositions,
    epoch_len: u64,
    output: LiveOutput,
    failover: Rc<RefCell<Option<Failover>>>,
    /// The link to the primary, cut at go-live so that an old primary that
    /// was only paused or cut off learns at once that it is on its own.
    sender: Sender,
    _heartbeats: Heartbeats,
}

impl BackupSource {
    /// Starts receiving on `conn` (handshake done). Returns the source, a
    /// sender for reporting a divergence, and the slot that will hold the
    /// failover account if the backup goes live.
    pub fn start(
        conn: Connection,
        epoch_len: u64,
        output: LiveOutput,
        timeout: Duration,
    ) -> (BackupSource, Sender, Rc<RefCell<Option<Failover>>>) {
        let Connection { sender, receiver } = conn;
        let (queue, incoming) = mpsc::channel();
        let acks = sender.clone();
        std::thread::Builder::new()
            .name("hbft-backup-receive".into())
            .spawn(move || receive(receiver, acks, queue))
            .expect("spawn backup receiver");
        let failover = Rc::new(RefCell::new(None));
        let source = BackupSource {
            incoming,
            pending: VecDeque::new(),
            end_frames: BTreeMap::new(),
            complete_through: None,
            run_ended: false,
            failure: None,
            devices: DevicePositions::default(),
            epoch_len,
            output,
            failover: failover.clone(),
            sender: sender.clone(),
            _heartbeats: Heartbeats::start(sender.clone(), heartbeat_interval(timeout)),
        };
        (source, sender, failover)
    }

    /// Queues what arrives until epoch `epoch` is whole or the primary is gone.
    fn fill(&mut self, epoch: u64) -> Result<(), JournalError> {
        while !self.has_epoch(epoch) && self.failure.is_none() {
            match self.incoming.recv() {
                Ok(Incoming::Entry(entry, end_frame)) => {
                    match &entry {
                        Entry::EpochEnd(end) => self.complete_through = Some(end.epoch),
                        Entry::RunEnd(_) => self.run_ended = true,
                        Entry::Env(_) => {}
                    }
                    if let (Entry::EpochEnd(end), Some((_, seq))) = (&entry, end_frame) {
                        self.end_frames.insert(end.epoch, seq);
                    }
                    self.pending.push_back((entry, end_frame.map(|(devices, _)| devices)));
                }
                Ok(Incoming::Gone(failure)) => self.failure = Some(failure),
                Ok(Incoming::Broken(why)) => return Err(why.into()),
                Err(mpsc::RecvError) => return Err("the primary's journal ended early".into()),
            }
        }
        Ok(())
    }

    fn has_epoch(&self, epoch: u64) -> bool {
        self.run_ended || self.complete_through.is_some_and(|e| e >= epoch)
    }

    /// Becomes the primary at the start of `epoch`.
    fn go_live(&mut self, epoch: u64, failure: Failure) -> Result<Takeover, JournalError> {
        let dropped = self.pending.len();
        self.pending.clear();
        self.sender.close();
        let mut env: Box<dyn Environment> = Box::new(HostEnvironment);
        let mut generation = None;
        if let Some(path) = &self.output.path {
            let mut device = OutputDevice::open(path)?;
            generation = Some(device.take_fence(false)?);
            let port = OutputPort::new(device, self.devices.output);
            *self.output.port.borrow_mut() = Some(port.clone());
            env = Box::new(DeviceEnvironment::new(env, port));
        }
        if let Some(offset) = self.devices.stdin {
            // Standard input continues where the guest's reads stood.
            // SAFETY: lseek on descriptor 0.
            if unsafe { libc::lseek(0, offset as i64, libc::SEEK_SET) } < 0 {
                return Err(format!("cannot position standard input at {offset}: {}", std::io::Error::last_os_error()).into());
            }
        }
        let failover = Failover {
            takeover: failure.detected_at.elapsed(),
            failure,
            epoch,
            retired: epoch * self.epoch_len,
            generation,
            dropped,
        };
        eprintln!("hbft backup: {}", failover.account());
        *self.failover.borrow_mut() = Some(failover);
        Ok(Takeover { env, sink: None })
    }
}

impl EpochSource for BackupSource {
    fn begin_epoch(&mut self, epoch: u64) -> Result<EpochStart, JournalError> {
        self.fill(epoch)?;
        if self.has_epoch(epoch) {
            if let Some(seq) = self.end_frames.remove(&epoch) {
                // A failed ack shows up as a failed receive.
                let _ = self.sender.send(&Message::Ack { upto: seq });
            }
            return Ok(EpochStart::Recorded);
        }
        let failure = self.failure.take().expect("fill stops only with the epoch whole or the primary gone");
        Ok(EpochStart::GoLive(self.go_live(epoch, failure)?))
    }

    fn next_entry(&mut self) -> Result<Entry, JournalError> {
        let (entry, devices) = self.pending.pop_front().ok_or("the primary's journal ended early")?;
        if let Some(devices) = devices {
            self.devices = devices;
        }
        Ok(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::DEFAULT_TIMEOUT;
    use crate::transport::in_process_pair;
    use hbft_runtime::journal::{EnvRecord, EpochEnd};

    fn env(record: EnvRecord) -> Message {
        Message::EnvResult(bincode::serialize(&record).unwrap())
    }

    fn end(epoch: u64, output: u64) -> Message {
        let end = EpochEnd { epoch, retired: (epoch + 1) * 100, interrupts: vec![], state_hash: epoch };
        Message::EpochEnd { epoch, record: bincode::serialize(&end).unwrap(), devices: DevicePositions { output, stdin: None } }
    }

    #[test]
    fn runs_whole_epochs_then_goes_live_at_the_unfinished_one() {
        let dir = std::env::temp_dir().join(format!("hbft-backup-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out");
        // The primary's device: generation 1, "hello" written, and "bye" of
        // the unfinished epoch too.
        let mut device = OutputDevice::open(&path).unwrap();
        device.take_fence(true).unwrap();
        device.write_at(0, b"hello").unwrap();
        device.write_at(5, b"bye").unwrap();

        let (a, b) = in_process_pair();
        let mut primary = Connection::new(a, b"key", DEFAULT_TIMEOUT);
        let port = Rc::new(RefCell::new(None));
        let output = LiveOutput { path: Some(path.clone()), port: port.clone() };
        let (mut source, _, failover) =
            BackupSource::start(Connection::new(b, b"key", DEFAULT_TIMEOUT), 100, output, DEFAULT_TIMEOUT);
        primary.sender.send(&env(EnvRecord::Write(Ok(5)))).unwrap();
        let (end_seq, _) = primary.sender.send(&end(0, 5)).unwrap();
        primary.sender.send(&env(EnvRecord::Write(Ok(3)))).unwrap();
        // Epoch 0's end is acknowledged when the backup starts epoch 0.
        assert!(matches!(source.begin_epoch(0).unwrap(), EpochStart::Recorded));
        assert_eq!(primary.receiver.recv().unwrap().1, Message::Ack { upto: end_seq });
        primary.sender.close();

        assert_eq!(source.next_entry().unwrap(), Entry::Env(EnvRecord::Write(Ok(5))));
        assert!(matches!(source.next_entry().unwrap(), Entry::EpochEnd(EpochEnd { epoch: 0, .. })));
        let EpochStart::GoLive(mut takeover) = source.begin_epoch(1).unwrap() else { panic!("epoch 1 is not whole") };
        let account = failover.borrow().clone().unwrap();
        assert_eq!((account.epoch, account.retired, account.generation, account.dropped), (1, 100, Some(2), 1));
        assert!(account.account().starts_with("primary failed (connection closed by peer); live from epoch 1 at 100 instructions"));
        // The old primary is fenced off; the new one continues at byte 5,
        // reissuing the unfinished epoch's write.
        assert!(device.write_at(8, b"late").is_err());
        assert_eq!(takeover.env.write(1, b"bye"), Ok(3));
        let port = port.borrow().clone().unwrap();
        assert_eq!((port.position(), port.reissued()), (8, 1));
        port.finish().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"hellobye");
    }

    #[test]
    fn a_run_end_makes_the_last_epoch_whole() {
        let (a, b) = in_process_pair();
        let primary = Connection::new(a, b"key", DEFAULT_TIMEOUT);
        let output = LiveOutput { path: None, port: Rc::default() };
        let (mut source, _, failover) =
            BackupSource::start(Connection::new(b, b"key", DEFAULT_TIMEOUT), 100, output, DEFAULT_TIMEOUT);
        let run_end = hbft_runtime::journal::RunEnd { retired: 42, exit_status: 0, state_hash: 7 };
        primary.sender.send(&env(EnvRecord::Sleep)).unwrap();
        primary.sender.send(&Message::RunEnd(bincode::serialize(&run_end).unwrap())).unwrap();
        primary.sender.close();
        assert!(matches!(source.begin_epoch(0).unwrap(), EpochStart::Recorded));
        assert_eq!(source.next_entry().unwrap(), Entry::Env(EnvRecord::Sleep));
        assert_eq!(source.next_entry().unwrap(), Entry::RunEnd(run_end));
        assert!(failover.borrow().is_none());
    }

    #[test]
    fn garbage_from_the_primary_is_an_error() {
        let (a, b) = in_process_pair();
        let primary = Connection::new(a, b"key", DEFAULT_TIMEOUT);
        let output = LiveOutput { path: None, port: Rc::default() };
        let (mut source, _, _) =
            BackupSource::start(Connection::new(b, b"key", DEFAULT_TIMEOUT), 100, output, DEFAULT_TIMEOUT);
        primary.sender.send(&Message::EnvResult(vec![0xff; 3])).unwrap();
        let error = source.begin_epoch(0).err().unwrap().to_string();
        assert!(error.starts_with("undecodable environment result from the primary"), "{error}");
    }
}
