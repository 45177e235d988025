//! The backup's side of the protocol: an [`EpochSource`] fed by the primary.
//!
//! A thread receives the primary's frames and queues the journal entries;
//! the run loop executes epoch E only once E's end is queued. Every epoch
//! end, output notice and run end is acknowledged as soon as it has been
//! received (the acknowledgment says "I have everything up to here", which
//! is all the protocol asks before the primary delivers E's interrupts or
//! releases output), so the primary never waits for the backup's
//! execution, only for a round trip. To bound what the backup must still
//! execute at failover, the acknowledgment is held back while the backup
//! is [`lag_window`] epochs or more behind, and sent when it catches up:
//! a slow backup slows the primary down instead of falling behind without
//! limit.
//!
//! When the primary fails, the backup replays every epoch it has whole,
//! then the results the primary sent for the unfinished epoch, and goes
//! live right where they end: a frame carries one system call's results,
//! so that is between two system calls (or at the epoch's start when none
//! came). It takes the output device's fence, performs the output the
//! primary held back and never performed, continues the output stream and
//! standard input where they stood after the last system call replayed,
//! and prints one line of account. The system calls the primary made
//! after that point are made again live; a write among them lands on the
//! same bytes (idempotent), a read of a seekable standard input reads the
//! same bytes again.
//!
//! Why the unfinished epoch's results must be used, not dropped: under
//! `--sync epoch` the primary performs an epoch's output during the epoch,
//! before the backup has acknowledged it. A backup that dropped the results
//! and re-executed the epoch live would recompute that output from fresh
//! environment results (another time of day, other bytes from a pipe) and
//! overwrite what the world may already have seen; input the primary had
//! consumed from a pipe would be lost. Using them is consistent because a
//! system call's results are sent before any later system call can
//! perform output, so every output the primary performed follows, in the
//! stream the backup receives, all the results it can depend on. When the
//! primary's process dies, what it sent is still delivered. What the
//! primary never sent (the results of the system call it was killed in)
//! no released output depends on; that call is made again live, which for
//! a pipe means the bytes that call consumed are lost: standard input that
//! is a pipe survives a failover exactly unless the primary dies between
//! a read's return and the end of that system call (a few microseconds).
//! Under a partition, frames already sent may be lost too; `--sync output`
//! covers that case (output is held until the backup has acknowledged
//! everything before it), `--sync epoch` does not.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use hbft_runtime::journal::{Entry, EpochSource, EpochStart, JournalError, OutputShadow, ReplayOutput, Takeover};
use hbft_runtime::linux::{Environment, HostEnvironment};

use crate::connection::{heartbeat_interval, Connection, Heartbeats, Receiver, Sender};
use crate::devices::{DeviceEnvironment, OutputPort};
use crate::frame::{DevicePositions, Message, StepResults};
use crate::output::OutputDevice;

/// What the receiving thread hands the run loop.
enum Incoming {
    /// Journal entries of one frame; the last comes with the device
    /// positions after it.
    Entries(Vec<(Entry, Option<DevicePositions>)>),
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
    /// Environment results of the unfinished epoch replayed before going
    /// live in its middle (0: live from its start).
    pub replayed: usize,
    /// Results of the unfinished epoch dropped (a run that goes live only
    /// at epoch starts).
    pub dropped: usize,
    /// Bytes of output the primary held back (output rule) and never
    /// performed, performed by this replica at takeover.
    pub released: u64,
}

impl Failover {
    /// The one-line account.
    pub fn account(&self) -> String {
        let mut fence = self.generation.map_or(String::new(), |g| format!(", output fence generation {g}"));
        if self.replayed > 0 {
            fence += &format!(", after {} results of the unfinished epoch", self.replayed);
        }
        if self.dropped > 0 {
            fence += &format!(", {} results of the unfinished epoch dropped", self.dropped);
        }
        if self.released > 0 {
            fence += &format!(", {} held bytes performed", self.released);
        }
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

/// Instructions the backup may have received but not yet started before
/// it holds back its acknowledgments: about 6 ms of JIT execution, 110 ms
/// of interpretation, which bounds the work left at failover.
const LAG_INSTRUCTIONS: u64 = 8 << 20;

/// How many epochs the backup may be behind the primary's last epoch end
/// before it holds back acknowledgments (at least 2, so that receiving
/// E+1's end while executing E, the steady state, never waits).
pub fn lag_window(epoch_len: u64) -> u64 {
    (LAG_INSTRUCTIONS / epoch_len.max(1)).max(2)
}

/// The acknowledgment flow shared by the receiving thread and the run loop.
struct Flow {
    sender: Sender,
    window: u64,
    /// The epoch the run loop executes.
    executing: u64,
    /// The last epoch whose end has been received.
    received_through: Option<u64>,
    /// A frame received while the backup was too far behind: acknowledged
    /// (cumulatively) once it has caught up.
    held: Option<u64>,
}

impl Flow {
    fn within_window(&self) -> bool {
        self.received_through.map_or(true, |r| r < self.executing + self.window)
    }

    /// Acknowledges frame `seq` now, or once the backup has caught up.
    fn received(&mut self, seq: u64) {
        if self.within_window() {
            // A failed ack shows up as a failed receive next.
            let _ = self.sender.send(&Message::Ack { upto: seq });
            self.held = None;
        } else {
            self.held = Some(seq);
        }
    }

    /// The run loop starts `epoch`: a held acknowledgment may go now.
    fn executing(&mut self, epoch: u64) {
        self.executing = epoch;
        if let Some(seq) = self.held.filter(|_| self.within_window()) {
            let _ = self.sender.send(&Message::Ack { upto: seq });
            self.held = None;
        }
    }
}

type SharedFlow = Arc<Mutex<Flow>>;

fn lock(flow: &SharedFlow) -> std::sync::MutexGuard<'_, Flow> {
    flow.lock().unwrap_or_else(|e| e.into_inner())
}

fn receive(mut receiver: Receiver, flow: SharedFlow, queue: mpsc::Sender<Incoming>) {
    let mut ended = false;
    loop {
        let item = match receiver.recv() {
            Ok((seq, message)) => {
                if let Message::EpochEnd { epoch, .. } = message {
                    lock(&flow).received_through = Some(epoch);
                }
                if matches!(message, Message::EpochEnd { .. } | Message::RunEnd(_) | Message::OutputNotice { .. }) {
                    lock(&flow).received(seq);
                }
                let entries = match message {
                    Message::StepResults(bytes) => decode(&bytes, "environment results").map(|step: StepResults| {
                        let last = step.records.len().saturating_sub(1);
                        let devices = |i| (i == last).then_some(step.devices);
                        step.records.into_iter().enumerate().map(|(i, r)| (Entry::Env(r), devices(i))).collect()
                    }),
                    Message::EpochEnd { record, devices, .. } => {
                        decode(&record, "epoch end").map(|e| vec![(Entry::EpochEnd(e), Some(devices))])
                    }
                    Message::RunEnd(bytes) => {
                        ended = true;
                        decode(&bytes, "run end").map(|e| vec![(Entry::RunEnd(e), None)])
                    }
                    Message::OutputNotice { .. } | Message::Bye { .. } => continue,
                    other => Err(format!("unexpected message of kind {} from the primary", other.kind())),
                };
                match entries {
                    Ok(entries) => Incoming::Entries(entries),
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
        let last = !matches!(item, Incoming::Entries(..));
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
    /// The replayed output the primary may not have performed yet.
    shadow: Rc<RefCell<OutputShadow>>,
}

impl LiveOutput {
    pub fn new(path: Option<PathBuf>) -> LiveOutput {
        LiveOutput { path, port: Rc::default(), shadow: Rc::default() }
    }

    /// What the replaying backup does with the guest's output: with a
    /// shared device, keeps what the primary may still hold back.
    pub fn replay_output(&self) -> ReplayOutput {
        match self.path {
            Some(_) => ReplayOutput::Capture(self.shadow.clone()),
            None => ReplayOutput::Suppress,
        }
    }
}

/// The journal source of a replicating backup.
pub struct BackupSource {
    incoming: mpsc::Receiver<Incoming>,
    pending: VecDeque<(Entry, Option<DevicePositions>)>,
    flow: SharedFlow,
    /// The last epoch whose end is queued.
    complete_through: Option<u64>,
    run_ended: bool,
    failure: Option<Failure>,
    /// The epoch being replayed.
    epoch: u64,
    /// The primary failed in the middle of the epoch being replayed: the
    /// run goes live once the results it sent for it are used.
    partial: Option<Failure>,
    /// How many results of that epoch were received.
    partial_results: usize,
    /// The run asks [`EpochSource::takeover_now`] between system calls, so
    /// the unfinished epoch's results can be used (else they are dropped
    /// and the run goes live at that epoch's start).
    mid_epoch: bool,
    /// Results of the unfinished epoch dropped (without `mid_epoch`).
    dropped: usize,
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
        let flow = Arc::new(Mutex::new(Flow {
            sender: sender.clone(),
            window: lag_window(epoch_len),
            executing: 0,
            received_through: None,
            held: None,
        }));
        let receiving = flow.clone();
        std::thread::Builder::new()
            .name("hbft-backup-receive".into())
            .spawn(move || receive(receiver, receiving, queue))
            .expect("spawn backup receiver");
        let failover = Rc::new(RefCell::new(None));
        let source = BackupSource {
            incoming,
            pending: VecDeque::new(),
            flow,
            complete_through: None,
            run_ended: false,
            failure: None,
            epoch: 0,
            partial: None,
            partial_results: 0,
            mid_epoch: false,
            dropped: 0,
            devices: DevicePositions::default(),
            epoch_len,
            output,
            failover: failover.clone(),
            sender: sender.clone(),
            _heartbeats: Heartbeats::start(sender.clone(), heartbeat_interval(timeout)),
        };
        (source, sender, failover)
    }

    /// Lets a failover use the unfinished epoch's results and go live
    /// between two system calls: for runs that ask
    /// [`EpochSource::takeover_now`] there (user mode does; a run that does
    /// not goes live at the unfinished epoch's start, dropping them).
    pub fn take_over_mid_epoch(&mut self) {
        self.mid_epoch = true;
    }

    /// Queues what arrives until epoch `epoch` is whole or the primary is gone.
    fn fill(&mut self, epoch: u64) -> Result<(), JournalError> {
        while !self.has_epoch(epoch) && self.failure.is_none() {
            match self.incoming.recv() {
                Ok(Incoming::Entries(entries)) => {
                    for (entry, devices) in entries {
                        match &entry {
                            Entry::EpochEnd(end) => self.complete_through = Some(end.epoch),
                            Entry::RunEnd(_) => self.run_ended = true,
                            Entry::Env(_) => {}
                        }
                        self.pending.push_back((entry, devices));
                    }
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
    fn go_live(&mut self, epoch: u64, retired: u64, failure: Failure) -> Result<Takeover, JournalError> {
        debug_assert!(self.pending.is_empty(), "going live with journal entries unused");
        self.sender.close();
        let mut env: Box<dyn Environment> = Box::new(HostEnvironment);
        let mut generation = None;
        let mut released = 0;
        if let Some(path) = &self.output.path {
            let mut device = OutputDevice::open(path)?;
            generation = Some(device.take_fence(false)?);
            // Output the primary held back and never performed: the guest
            // made it in epochs replayed here, so it is performed now.
            let shadow = self.output.shadow.borrow();
            if !shadow.bytes().is_empty() {
                device.write_at(shadow.start(), shadow.bytes())?;
                released = shadow.bytes().len() as u64;
            }
            let port = OutputPort::new(device, shadow.end());
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
            retired,
            generation,
            replayed: self.partial_results,
            dropped: self.dropped,
            released,
        };
        eprintln!("hbft backup: {}", failover.account());
        *self.failover.borrow_mut() = Some(failover);
        Ok(Takeover { env, sink: None })
    }
}

impl EpochSource for BackupSource {
    fn begin_epoch(&mut self, epoch: u64) -> Result<EpochStart, JournalError> {
        lock(&self.flow).executing(epoch);
        self.epoch = epoch;
        self.fill(epoch)?;
        if self.has_epoch(epoch) {
            return Ok(EpochStart::Recorded);
        }
        let failure = self.failure.take().expect("fill stops only with the epoch whole or the primary gone");
        if self.pending.is_empty() || !self.mid_epoch {
            self.dropped = self.pending.len();
            self.pending.clear();
            return Ok(EpochStart::GoLive(self.go_live(epoch, epoch * self.epoch_len, failure)?));
        }
        // The primary failed in this epoch after sending results of it:
        // replay them, then go live between two system calls.
        self.partial_results = self.pending.len();
        self.partial = Some(failure);
        Ok(EpochStart::Recorded)
    }

    fn next_entry(&mut self) -> Result<Entry, JournalError> {
        let (entry, devices) = self.pending.pop_front().ok_or("the primary's journal ended early")?;
        if let Some(devices) = devices {
            self.devices = devices;
            self.output.shadow.borrow_mut().forget_before(devices.performed);
        }
        Ok(entry)
    }

    fn takeover_now(&mut self, retired: u64) -> Result<Option<Takeover>, JournalError> {
        if !self.pending.is_empty() {
            return Ok(None);
        }
        match self.partial.take() {
            Some(failure) => Ok(Some(self.go_live(self.epoch, retired, failure)?)),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::DEFAULT_TIMEOUT;
    use crate::transport::in_process_pair;
    use hbft_runtime::journal::{EnvRecord, EpochEnd};

    /// One system call's result, the output stream at `output` after it.
    fn env(record: EnvRecord, output: u64) -> Message {
        let devices = DevicePositions { output, performed: output, stdin: None };
        Message::StepResults(bincode::serialize(&StepResults { records: vec![record], devices }).unwrap())
    }

    fn end(epoch: u64, output: u64) -> Message {
        let end = EpochEnd { epoch, retired: (epoch + 1) * 100, interrupts: vec![], state_hash: epoch };
        Message::EpochEnd { epoch, record: bincode::serialize(&end).unwrap(), devices: DevicePositions { output, performed: output, stdin: None } }
    }

    #[test]
    fn replays_whole_epochs_then_the_unfinished_ones_results_then_goes_live() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        // The primary's device: generation 1, "hello" written in epoch 0,
        // "bye" and "!!" in epoch 1, whose end it never sent; the result
        // of "!!" did not reach the backup either.
        let mut device = OutputDevice::open(&path).unwrap();
        device.take_fence(true).unwrap();
        device.write_at(0, b"hello").unwrap();
        device.write_at(5, b"bye").unwrap();
        device.write_at(8, b"!!").unwrap();

        let (a, b) = in_process_pair();
        let mut primary = Connection::new(a, b"key", DEFAULT_TIMEOUT);
        let output = LiveOutput::new(Some(path.clone()));
        let port = output.port.clone();
        let ReplayOutput::Capture(shadow) = output.replay_output() else { panic!("a device captures") };
        let (mut source, _, failover) =
            BackupSource::start(Connection::new(b, b"key", DEFAULT_TIMEOUT), 100, output, DEFAULT_TIMEOUT);
        source.take_over_mid_epoch();
        primary.sender.send(&env(EnvRecord::Write(Ok(5)), 5)).unwrap();
        let (end_seq, _) = primary.sender.send(&end(0, 5)).unwrap();
        primary.sender.send(&env(EnvRecord::Write(Ok(3)), 8)).unwrap();
        // Epoch 0's end is acknowledged on receipt.
        assert_eq!(primary.receiver.recv().unwrap().1, Message::Ack { upto: end_seq });
        assert!(matches!(source.begin_epoch(0).unwrap(), EpochStart::Recorded));
        primary.sender.close();

        assert_eq!(source.next_entry().unwrap(), Entry::Env(EnvRecord::Write(Ok(5))));
        shadow.borrow_mut().push(b"hello");
        assert!(source.takeover_now(60).unwrap().is_none());
        assert!(matches!(source.next_entry().unwrap(), Entry::EpochEnd(EpochEnd { epoch: 0, .. })));
        // Epoch 1 is not whole, but its first result is there: replayed.
        assert!(matches!(source.begin_epoch(1).unwrap(), EpochStart::Recorded));
        assert!(source.takeover_now(120).unwrap().is_none());
        assert_eq!(source.next_entry().unwrap(), Entry::Env(EnvRecord::Write(Ok(3))));
        shadow.borrow_mut().push(b"bye");
        let mut takeover = source.takeover_now(150).unwrap().expect("the journal ends here");
        let account = failover.borrow().clone().unwrap();
        assert_eq!((account.epoch, account.retired, account.generation, account.replayed), (1, 150, Some(2), 1));
        assert_eq!(
            account.account().split(": detection").next().unwrap(),
            "primary failed (connection closed by peer); live from epoch 1 at 150 instructions"
        );
        // The old primary is fenced off; the new one continues at byte 8,
        // reissuing the write whose result was lost.
        assert!(device.write_at(10, b"late").is_err());
        assert_eq!(takeover.env.write(1, b"!!"), Ok(2));
        let port = port.borrow().clone().unwrap();
        assert_eq!((port.position(), port.reissued()), (10, 1));
        port.finish().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"hellobye!!");
    }

    #[test]
    fn without_mid_epoch_takeover_the_unfinished_epoch_is_dropped() {
        let (a, b) = in_process_pair();
        let primary = Connection::new(a, b"key", DEFAULT_TIMEOUT);
        let (mut source, _, failover) =
            BackupSource::start(Connection::new(b, b"key", DEFAULT_TIMEOUT), 100, LiveOutput::new(None), DEFAULT_TIMEOUT);
        primary.sender.send(&env(EnvRecord::Sleep, 0)).unwrap();
        primary.sender.send(&end(0, 0)).unwrap();
        primary.sender.send(&env(EnvRecord::Sleep, 0)).unwrap();
        primary.sender.close();
        assert!(matches!(source.begin_epoch(0).unwrap(), EpochStart::Recorded));
        source.next_entry().unwrap();
        source.next_entry().unwrap();
        assert!(matches!(source.begin_epoch(1).unwrap(), EpochStart::GoLive(_)));
        let account = failover.borrow().clone().unwrap();
        assert_eq!((account.epoch, account.retired, account.replayed, account.dropped), (1, 100, 0, 1));
        assert!(account.account().ends_with("1 results of the unfinished epoch dropped"), "{}", account.account());
    }

    #[test]
    fn output_the_primary_held_back_is_performed_at_takeover() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        // The primary performed "one " and held "two " when it died.
        let mut device = OutputDevice::open(&path).unwrap();
        device.take_fence(true).unwrap();
        device.write_at(0, b"one ").unwrap();
        let (a, b) = in_process_pair();
        let primary = Connection::new(a, b"key", DEFAULT_TIMEOUT);
        let output = LiveOutput::new(Some(path.clone()));
        let port = output.port.clone();
        let ReplayOutput::Capture(shadow) = output.replay_output() else { panic!("a device captures") };
        let (mut source, _, failover) =
            BackupSource::start(Connection::new(b, b"key", DEFAULT_TIMEOUT), 100, output, DEFAULT_TIMEOUT);
        primary.sender.send(&env(EnvRecord::Write(Ok(4)), 4)).unwrap();
        primary.sender.send(&env(EnvRecord::Write(Ok(4)), 8)).unwrap();
        let devices = DevicePositions { output: 8, performed: 4, stdin: None };
        let end = EpochEnd { epoch: 0, retired: 100, interrupts: vec![], state_hash: 0 };
        primary.sender.send(&Message::EpochEnd { epoch: 0, record: bincode::serialize(&end).unwrap(), devices }).unwrap();
        primary.sender.close();
        assert!(matches!(source.begin_epoch(0).unwrap(), EpochStart::Recorded));
        for text in [b"one ", b"two "] {
            source.next_entry().unwrap();
            shadow.borrow_mut().push(text);
        }
        source.next_entry().unwrap();
        let EpochStart::GoLive(mut takeover) = source.begin_epoch(1).unwrap() else { panic!("epoch 1 is not whole") };
        assert_eq!(failover.borrow().as_ref().unwrap().released, 4);
        assert_eq!(takeover.env.write(1, b"three"), Ok(5));
        port.borrow().clone().unwrap().finish().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"one two three");
    }

    #[test]
    fn acknowledgments_wait_while_the_backup_is_a_window_behind() {
        let (a, b) = in_process_pair();
        let mut primary = Connection::new(a, b"key", DEFAULT_TIMEOUT);
        let output = LiveOutput::new(None);
        // Epochs so long that the window is its minimum, 2.
        let epoch_len = LAG_INSTRUCTIONS;
        assert_eq!(lag_window(epoch_len), 2);
        // A long timeout: no heartbeat comes between the acks.
        let long = Duration::from_secs(20);
        let (mut source, _, _) = BackupSource::start(Connection::new(b, b"key", long), epoch_len, output, long);
        let send_end = |epoch| primary.sender.send(&end(epoch, 0)).unwrap().0;
        let (first, second, third) = (send_end(0), send_end(1), send_end(2));
        // Executing epoch 0: the ends of 0 and 1 are within the window...
        assert_eq!(primary.receiver.recv().unwrap().1, Message::Ack { upto: first });
        assert_eq!(primary.receiver.recv().unwrap().1, Message::Ack { upto: second });
        // ...epoch 2's is held until the backup starts epoch 1.
        assert!(matches!(source.begin_epoch(0).unwrap(), EpochStart::Recorded));
        primary.receiver.set_timeout(Duration::from_millis(100));
        assert!(primary.receiver.recv().is_err(), "epoch 2's end acknowledged while executing epoch 0");
        source.next_entry().unwrap();
        assert!(matches!(source.begin_epoch(1).unwrap(), EpochStart::Recorded));
        primary.receiver.set_timeout(DEFAULT_TIMEOUT);
        assert_eq!(primary.receiver.recv().unwrap().1, Message::Ack { upto: third });
    }

    #[test]
    fn a_run_end_makes_the_last_epoch_whole() {
        let (a, b) = in_process_pair();
        let primary = Connection::new(a, b"key", DEFAULT_TIMEOUT);
        let output = LiveOutput::new(None);
        let (mut source, _, failover) =
            BackupSource::start(Connection::new(b, b"key", DEFAULT_TIMEOUT), 100, output, DEFAULT_TIMEOUT);
        let run_end = hbft_runtime::journal::RunEnd { retired: 42, exit_status: 0, state_hash: 7 };
        primary.sender.send(&env(EnvRecord::Sleep, 0)).unwrap();
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
        let output = LiveOutput::new(None);
        let (mut source, _, _) =
            BackupSource::start(Connection::new(b, b"key", DEFAULT_TIMEOUT), 100, output, DEFAULT_TIMEOUT);
        primary.sender.send(&Message::StepResults(vec![0xff; 3])).unwrap();
        let error = source.begin_epoch(0).err().unwrap().to_string();
        assert!(error.starts_with("undecodable environment results from the primary"), "{error}");
    }
}
