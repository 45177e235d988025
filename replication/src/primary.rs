//! The primary's side of the protocol: an [`EpochSink`] that forwards the
//! journal to the backup.
//!
//! The environment results of each system call are sent as soon as the
//! call is complete (and before any output it makes). At the end
//! of epoch E the primary sends the epoch's end (interrupts, state hash,
//! device positions) and, under [`SyncRule::Epoch`], waits for the backup's
//! acknowledgment before the run loop delivers the interrupts and starts
//! E+1 (the backup acknowledges on receipt, holding back only while it is
//! more than [`lag_window`] epochs behind).
//!
//! Under [`SyncRule::Output`] (VMware FT's output rule) the guest never
//! waits for its output: before each write the primary sends an output
//! notice, and the write is *held* on the output port until the backup has
//! acknowledged that notice, i.e. everything the guest did before the
//! write; the guest runs on meanwhile. At an epoch end the primary waits
//! only if the backup is more than [`lag_window`] epochs behind.
//!
//! The backup's frames (cumulative acks, a divergence report, or the
//! backup's failure) are read by the run loop itself while it waits under
//! the epoch rule: it needs them at no other time, and a frame the waiting
//! thread reads itself costs one wake-up less per epoch than one relayed
//! by another thread. Under the output rule a thread reads them, since
//! held writes are released while the guest runs on. A failed backup
//! leaves the primary alone: it says so once and runs on unreplicated. A
//! divergence stops it.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use hbft_runtime::journal::{EnvRecord, EpochEnd, EpochSink, JournalError, RunEnd};

use crate::backup::lag_window;
use crate::connection::{heartbeat_interval, Connection, Heartbeats, PeerGone, Receiver, Sender};
use crate::devices::{OutputPort, Release, ReleaseGate};
use crate::frame::{DevicePositions, Message, StepResults};
use crate::handshake::SyncRule;

/// What the primary knows about its backup.
#[derive(Default)]
struct Watch {
    /// Highest sequence number the backup acknowledged.
    acked: Option<u64>,
    /// Why the backup is considered failed.
    lost: Option<String>,
    /// The backup found a different state hash: epoch and details.
    diverged: Option<(u64, String)>,
    /// "Continuing alone" has been said.
    announced: bool,
    /// The guest has ended and its end is being handed to the backup:
    /// nothing continues, so a backup closing the link from now on (its
    /// orderly exit once it has the end, which may come before the run
    /// loop even sees the acknowledgment) is not announced as a loss.
    ending: bool,
}

impl Watch {
    /// Takes in what came from the backup; true once it is lost.
    fn note(&mut self, received: Result<(u64, Message), PeerGone>) -> bool {
        match received {
            // Acks come from two threads of the backup: keep the highest.
            Ok((_, Message::Ack { upto })) => self.acked = self.acked.max(Some(upto)),
            Ok((_, Message::Diverged { epoch, detail })) => self.diverged = Some((epoch, detail)),
            Ok((_, Message::Bye { .. })) => self.lost = Some("the backup stopped".into()),
            Ok((_, other)) => self.lost = Some(format!("unexpected message of kind {} from the backup", other.kind())),
            Err(gone) => self.lost = Some(gone.to_string()),
        }
        if let Some(lost) = self.lost.clone() {
            // Said at detection: held output is released from now on, even
            // while the guest does not wait for anything.
            self.announce_alone(&lost);
        }
        self.lost.is_some()
    }

    /// Where the wait for frame `seq` stands; an error if the backup diverged.
    fn outcome(&self, seq: u64) -> Result<Outcome, JournalError> {
        if let Some((epoch, detail)) = &self.diverged {
            return Err(format!("DIVERGENCE: the backup's state differs in epoch {epoch}: {detail}").into());
        }
        if self.acked.is_some_and(|acked| acked >= seq) {
            return Ok(Outcome::Acked);
        }
        Ok(self.lost.clone().map_or(Outcome::Pending, Outcome::Lost))
    }

    /// Says once that the primary goes on without its backup.
    fn announce_alone(&mut self, why: &str) {
        if !self.announced && !self.ending {
            eprintln!("hbft primary: backup lost ({why}); continuing alone");
            self.announced = true;
        }
    }
}

/// Where a wait for an acknowledgment stands.
enum Outcome {
    Pending,
    Acked,
    /// The backup is lost, and why.
    Lost(String),
}

type Shared = Arc<(Mutex<Watch>, Condvar)>;

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Watch> {
    shared.0.lock().unwrap_or_else(|e| e.into_inner())
}

/// Who reads the backup's frames.
enum Acks {
    /// A thread, which updates the shared watch (the output rule).
    Thread(Shared),
    /// The run loop, while it waits (the epoch rule).
    RunLoop { receiver: Receiver, watch: Watch },
}

/// What forwarding cost, for `--stats`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ForwardStats {
    pub frames: u64,
    pub bytes: u64,
    /// Time spent waiting for the backup's acknowledgments.
    pub waited: std::time::Duration,
}

impl ForwardStats {
    /// The `--stats` line of a primary that ran `epochs` epochs in `run_time`.
    pub fn summary(&self, epochs: u64, run_time: std::time::Duration) -> String {
        format!(
            "hbft primary: {epochs} epochs; {} frames ({} bytes) to the backup; waited {:.1} ms for acknowledgments ({:.1}% of the run)",
            self.frames,
            self.bytes,
            self.waited.as_secs_f64() * 1e3,
            100.0 * self.waited.as_secs_f64() / run_time.as_secs_f64().max(1e-9)
        )
    }
}

/// The journal sink of a replicating primary.
pub struct PrimarySink {
    stats: Rc<Cell<ForwardStats>>,
    sender: Sender,
    acks: Acks,
    sync: SyncRule,
    output: Option<OutputPort>,
    /// Set once the backup has failed: nothing is sent any more.
    alone: bool,
    heartbeats: Option<Heartbeats>,
    /// The environment results of the system call in progress.
    step: Vec<EnvRecord>,
    /// Under the output rule: the epoch ends sent and not yet waited for
    /// (epoch, frame sequence number), oldest first.
    unwaited_ends: std::collections::VecDeque<(u64, u64)>,
}

/// Releases held output once the backup has acknowledged what precedes it.
struct AckGate(Shared);

impl ReleaseGate for AckGate {
    fn wait(&self, seq: u64) -> Release {
        let (state, changed) = &*self.0;
        let mut w = state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if w.diverged.is_some() {
                return Release::Never;
            }
            // A lost backup leaves the primary alone: its output goes out.
            if w.lost.is_some() || w.acked.is_some_and(|acked| acked >= seq) {
                return Release::Now;
            }
            w = changed.wait(w).unwrap_or_else(|e| e.into_inner());
        }
    }
}

fn watch_backup(mut receiver: Receiver, watch: Shared) {
    loop {
        let received = receiver.recv();
        let stop = lock(&watch).note(received);
        watch.1.notify_all();
        if stop {
            return;
        }
    }
}

/// The primary's standard-input offset, if standard input is seekable.
fn stdin_offset() -> Option<u64> {
    // SAFETY: lseek on descriptor 0 only queries its offset.
    let offset = unsafe { libc::lseek(0, 0, libc::SEEK_CUR) };
    u64::try_from(offset).ok()
}

impl PrimarySink {
    /// Starts watching the backup and sending heartbeats on `conn` (call it
    /// right after the handshake: a silent primary is presumed dead).
    pub fn start(conn: Connection, sync: SyncRule, timeout: std::time::Duration) -> PrimarySink {
        let Connection { sender, receiver } = conn;
        let acks = match sync {
            SyncRule::Epoch => Acks::RunLoop { receiver, watch: Watch::default() },
            SyncRule::Output => {
                let watch: Shared = Arc::default();
                let shared = watch.clone();
                std::thread::Builder::new()
                    .name("hbft-primary-watch".into())
                    .spawn(move || watch_backup(receiver, shared))
                    .expect("spawn backup watcher");
                Acks::Thread(watch)
            }
        };
        let heartbeats = Some(Heartbeats::start(sender.clone(), heartbeat_interval(timeout)));
        PrimarySink {
            stats: Rc::default(),
            sender,
            acks,
            sync,
            output: None,
            alone: false,
            heartbeats,
            step: Vec::new(),
            unwaited_ends: Default::default(),
        }
    }

    /// The forwarding figures, updated as the run goes.
    pub fn stats(&self) -> Rc<Cell<ForwardStats>> {
        self.stats.clone()
    }

    /// The guest's output port, whose position goes with every epoch end.
    /// Under the output rule its writes are held until acknowledged.
    pub fn attach_output(&mut self, port: OutputPort) {
        if let Acks::Thread(watch) = &self.acks {
            port.hold(Box::new(AckGate(watch.clone())));
        }
        self.output = Some(port);
    }

    /// What is known of the backup.
    fn with_watch<R>(&mut self, f: impl FnOnce(&mut Watch) -> R) -> R {
        match &mut self.acks {
            Acks::Thread(shared) => f(&mut lock(shared)),
            Acks::RunLoop { watch, .. } => f(watch),
        }
    }

    fn go_alone(&mut self, why: &str) {
        if !self.alone {
            self.with_watch(|w| w.announce_alone(why));
            self.alone = true;
            self.heartbeats = None;
            self.sender.close();
        }
    }

    /// Sends `message`; a failed send means a failed backup.
    fn send(&mut self, message: &Message) -> Option<u64> {
        if self.alone {
            return None;
        }
        match self.sender.send(message) {
            Ok((seq, bytes)) => {
                let mut stats = self.stats.get();
                stats.frames += 1;
                stats.bytes += bytes as u64;
                self.stats.set(stats);
                Some(seq)
            }
            Err(error) => {
                self.go_alone(&error.to_string());
                None
            }
        }
    }

    /// Waits until the backup has acknowledged frame `seq`, has failed, or
    /// reports a divergence (an error: the run must stop).
    fn wait_ack(&mut self, seq: Option<u64>) -> Result<(), JournalError> {
        let Some(seq) = seq else { return Ok(()) };
        let started = Instant::now();
        let outcome = self.wait_for(seq);
        let mut stats = self.stats.get();
        stats.waited += started.elapsed();
        self.stats.set(stats);
        outcome
    }

    fn wait_for(&mut self, seq: u64) -> Result<(), JournalError> {
        let outcome = match &mut self.acks {
            Acks::Thread(shared) => {
                let mut w = lock(shared);
                loop {
                    match w.outcome(seq)? {
                        Outcome::Pending => w = shared.1.wait(w).unwrap_or_else(|e| e.into_inner()),
                        done => break done,
                    }
                }
            }
            Acks::RunLoop { receiver, watch } => loop {
                match watch.outcome(seq)? {
                    Outcome::Pending => {
                        watch.note(receiver.recv());
                    }
                    done => break done,
                }
            },
        };
        if let Outcome::Lost(why) = outcome {
            self.go_alone(&why);
        }
        Ok(())
    }

    /// Sends the results of the system call just completed, if any.
    fn send_step(&mut self) {
        if self.step.is_empty() {
            return;
        }
        let records = std::mem::take(&mut self.step);
        let devices = self.devices();
        self.send(&Message::StepResults(encode(&StepResults { records, devices })));
    }

    /// Waits until every held output write is performed (each is released
    /// by an acknowledgment, or at once when the backup is lost). The run's
    /// end is reported only then: a backup that has the end follows the
    /// primary to it and never goes live, so it must owe no output.
    fn wait_output_performed(&mut self) -> Result<(), JournalError> {
        let Some(port) = self.output.clone() else { return Ok(()) };
        let started = Instant::now();
        while port.performed() < port.position() {
            if let Some((epoch, detail)) = self.with_watch(|w| w.diverged.clone()) {
                return Err(format!("DIVERGENCE: the backup's state differs in epoch {epoch}: {detail}").into());
            }
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
        let mut stats = self.stats.get();
        stats.waited += started.elapsed();
        self.stats.set(stats);
        Ok(())
    }

    fn devices(&self) -> DevicePositions {
        DevicePositions {
            output: self.output.as_ref().map_or(0, OutputPort::position),
            performed: self.output.as_ref().map_or(0, OutputPort::performed),
            stdin: stdin_offset(),
        }
    }
}

fn encode<T: serde::Serialize>(value: &T) -> Vec<u8> {
    bincode::serialize(value).expect("journal entries always serialize")
}

impl EpochSink for PrimarySink {
    fn env_result(&mut self, record: &EnvRecord) -> Result<(), JournalError> {
        if !self.alone {
            self.step.push(record.clone());
        }
        Ok(())
    }

    fn step_end(&mut self) -> Result<(), JournalError> {
        self.send_step();
        Ok(())
    }

    fn before_output(&mut self) -> Result<(), JournalError> {
        self.send_step();
        if self.sync != SyncRule::Output || self.alone {
            return Ok(());
        }
        let offset = self.output.as_ref().map_or(0, OutputPort::position);
        let seq = self.send(&Message::OutputNotice { offset });
        match (&self.output, seq) {
            // The write that follows is held until the notice is acknowledged.
            (Some(port), Some(seq)) => port.release_after(seq),
            // Output to the primary's own streams cannot be held: wait.
            (None, _) => return self.wait_ack(seq),
            (Some(_), None) => {}
        }
        Ok(())
    }

    fn epoch_end(&mut self, end: &EpochEnd) -> Result<(), JournalError> {
        self.send_step();
        let devices = self.devices();
        let seq = self.send(&Message::EpochEnd { epoch: end.epoch, record: encode(end), devices });
        match self.sync {
            SyncRule::Epoch => self.wait_ack(seq),
            SyncRule::Output => {
                // Bound the backup's lag: wait for the acknowledgment of the
                // end `lag_window` epochs back. Epoch E ends at (E+1)·length.
                let window = lag_window(end.retired / (end.epoch + 1));
                self.unwaited_ends.extend(seq.map(|seq| (end.epoch, seq)));
                let mut due = None;
                while let Some(&(_, seq)) = self.unwaited_ends.front().filter(|(e, _)| e + window <= end.epoch) {
                    due = Some(seq);
                    self.unwaited_ends.pop_front();
                }
                self.wait_ack(due)
            }
        }
    }

    fn run_end(&mut self, end: &RunEnd) -> Result<(), JournalError> {
        // Wait for the backup to have everything before closing, so that
        // nothing in flight is lost to a connection reset.
        self.send_step();
        self.wait_output_performed()?;
        self.with_watch(|w| w.ending = true);
        let seq = self.send(&Message::RunEnd(encode(end)));
        self.wait_ack(seq)?;
        self.send(&Message::Bye { status: end.exit_status });
        self.heartbeats = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::DEFAULT_TIMEOUT;
    use crate::transport::in_process_pair;

    fn sink(sync: SyncRule) -> (PrimarySink, Connection) {
        let (a, b) = in_process_pair();
        let sink = PrimarySink::start(Connection::new(a, b"key", DEFAULT_TIMEOUT), sync, DEFAULT_TIMEOUT);
        (sink, Connection::new(b, b"key", DEFAULT_TIMEOUT))
    }

    fn epoch_end(epoch: u64) -> EpochEnd {
        EpochEnd { epoch, retired: (epoch + 1) * 10, interrupts: vec![], state_hash: 0 }
    }

    /// Acknowledges every epoch end, run end and output notice.
    fn acking_backup(mut backup: Connection) -> std::thread::JoinHandle<Vec<Message>> {
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            while let Ok((seq, message)) = backup.receiver.recv() {
                if matches!(message, Message::EpochEnd { .. } | Message::RunEnd(_) | Message::OutputNotice { .. }) {
                    backup.sender.send(&Message::Ack { upto: seq }).unwrap();
                }
                let bye = matches!(message, Message::Bye { .. });
                seen.push(message);
                if bye {
                    break;
                }
            }
            seen
        })
    }

    #[test]
    fn forwards_results_and_waits_for_acks() {
        let (mut sink, backup) = sink(SyncRule::Output);
        let stats = sink.stats();
        let backup = acking_backup(backup);
        sink.env_result(&EnvRecord::Sleep).unwrap();
        sink.step_end().unwrap();
        sink.before_output().unwrap();
        sink.epoch_end(&epoch_end(0)).unwrap();
        sink.run_end(&RunEnd { retired: 15, exit_status: 0, state_hash: 0 }).unwrap();
        let kinds: Vec<u8> = backup.join().unwrap().iter().map(Message::kind).collect();
        // EnvResult, OutputNotice, EpochEnd, RunEnd, Bye.
        assert_eq!(kinds, [4, 6, 5, 11, 10]);
        assert_eq!(stats.get().frames, 5);
        assert!(!sink.alone);
    }

    #[test]
    fn the_output_rule_holds_writes_until_acknowledged_without_stalling_the_guest() {
        use crate::devices::DeviceEnvironment;
        use crate::output::OutputDevice;
        use hbft_runtime::linux::{Environment, HostEnvironment};

        let dir = std::env::temp_dir().join(format!("hbft-primary-held-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out");
        let mut device = OutputDevice::open(&path).unwrap();
        device.take_fence(true).unwrap();
        let port = OutputPort::new(device, 0);
        let (mut sink, mut backup) = sink(SyncRule::Output);
        sink.attach_output(port.clone());
        let mut env = DeviceEnvironment::new(Box::new(HostEnvironment), port.clone());
        // The guest's write returns at once; the bytes wait for the backup.
        sink.before_output().unwrap();
        assert_eq!(env.write(1, b"held\n"), Ok(5));
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert_eq!(std::fs::read(&path).unwrap(), b"");
        let (seq, notice) = backup.receiver.recv().unwrap();
        assert_eq!(notice, Message::OutputNotice { offset: 0 });
        backup.sender.send(&Message::Ack { upto: seq }).unwrap();
        let deadline = Instant::now() + std::time::Duration::from_secs(5);
        while std::fs::read(&path).unwrap() != b"held\n" {
            assert!(Instant::now() < deadline, "acknowledged output not released");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        port.finish().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"held\n");
    }

    #[test]
    fn a_lost_backup_leaves_the_primary_alone() {
        let (mut sink, backup) = sink(SyncRule::Epoch);
        drop(backup);
        sink.env_result(&EnvRecord::Sleep).unwrap();
        sink.epoch_end(&epoch_end(0)).unwrap();
        assert!(sink.alone);
        // Nothing is sent any more, and nothing waits.
        sink.epoch_end(&epoch_end(1)).unwrap();
        sink.run_end(&RunEnd { retired: 25, exit_status: 0, state_hash: 0 }).unwrap();
    }

    #[test]
    fn a_divergence_report_stops_the_primary() {
        let (mut sink, backup) = sink(SyncRule::Epoch);
        backup.sender.send(&Message::Diverged { epoch: 3, detail: "state hash 1, recorded 2".into() }).unwrap();
        let error = sink.epoch_end(&epoch_end(3)).unwrap_err().to_string();
        assert_eq!(error, "DIVERGENCE: the backup's state differs in epoch 3: state hash 1, recorded 2");
    }
}
