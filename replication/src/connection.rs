//! An authenticated connection to the peer replica, with heartbeats and
//! failure detection.
//!
//! The sending half is shared ([`Sender`] is `Clone`): the run loop sends
//! data, a heartbeat thread sends `Heartbeat` every interval, a receiving
//! thread sends acks. The receiving half ([`Receiver`]) declares the peer
//! failed when the link closes (a crashed process: the kernel closes its
//! sockets) or when nothing at all, not even a heartbeat, has arrived for
//! the failure-detection timeout (a hung process, a dead host, a partition).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::frame::{Message, Opener, Sealer};
use crate::transport::{Link, LinkError, LinkRx, LinkTx};

/// Default failure-detection timeout. Heartbeats go out every quarter of it,
/// so three may be lost or delayed (a 2-core host under load can deschedule
/// a process for tens of ms) before the peer is presumed dead, while
/// detection stays well under a second. A crashed peer on a live host is
/// detected at once anyway: its connection closes.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(300);

/// How often heartbeats are sent for a given failure-detection timeout.
pub fn heartbeat_interval(timeout: Duration) -> Duration {
    timeout / 4
}

struct SendHalf {
    link: Box<dyn LinkTx>,
    sealer: Sealer,
}

/// The shared sending half.
#[derive(Clone)]
pub struct Sender(Arc<Mutex<SendHalf>>);

impl Sender {
    /// Sends `message`; returns its sequence number and the frame's size.
    pub fn send(&self, message: &Message) -> Result<(u64, usize), LinkError> {
        let mut half = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let seq = half.sealer.next_seq();
        let frame = half.sealer.seal(message);
        half.link.send(&frame)?;
        Ok((seq, frame.len()))
    }

    /// Closes the connection; the peer sees it closed.
    pub fn close(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).link.close();
    }

    fn set_session(&self, session: [u8; 32]) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).sealer.set_session(session);
    }
}

/// The peer is considered failed.
#[derive(Debug, thiserror::Error)]
#[error("{cause} ({} ms after its last frame)", .silent_for.as_millis())]
pub struct PeerGone {
    pub cause: LinkError,
    /// Time since the last frame from the peer when the failure was detected.
    pub silent_for: Duration,
}

/// The receiving half.
pub struct Receiver {
    link: Box<dyn LinkRx>,
    opener: Opener,
    timeout: Duration,
    last_heard: Instant,
}

impl Receiver {
    /// The next message other than a heartbeat, with its sequence number.
    /// Heartbeats only prove the peer alive.
    pub fn recv(&mut self) -> Result<(u64, Message), PeerGone> {
        loop {
            let received = self.link.recv(self.timeout).and_then(|frame| Ok(self.opener.open(&frame)?));
            match received {
                Ok((_, Message::Heartbeat)) => self.last_heard = Instant::now(),
                Ok(item) => {
                    self.last_heard = Instant::now();
                    return Ok(item);
                }
                Err(cause) => return Err(PeerGone { cause, silent_for: self.last_heard.elapsed() }),
            }
        }
    }

    /// Changes the failure-detection timeout; returns the previous one.
    pub fn set_timeout(&mut self, timeout: Duration) -> Duration {
        std::mem::replace(&mut self.timeout, timeout)
    }
}

/// Both halves of an authenticated connection.
pub struct Connection {
    pub sender: Sender,
    pub receiver: Receiver,
}

impl Connection {
    /// Authenticates every frame on `link` with `key`.
    pub fn new(link: Link, key: &[u8], timeout: Duration) -> Connection {
        let (tx, rx) = link;
        Connection {
            sender: Sender(Arc::new(Mutex::new(SendHalf { link: tx, sealer: Sealer::new(key) }))),
            receiver: Receiver { link: rx, opener: Opener::new(key), timeout, last_heard: Instant::now() },
        }
    }

    /// Binds both directions to the session the handshake agreed on.
    pub fn set_session(&mut self, session: [u8; 32]) {
        self.sender.set_session(session);
        self.receiver.opener.set_session(session);
    }
}

/// Sends heartbeats until dropped or until the link fails.
pub struct Heartbeats {
    stop: Arc<AtomicBool>,
}

impl Heartbeats {
    pub fn start(sender: Sender, interval: Duration) -> Heartbeats {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::Builder::new()
            .name("hbft-heartbeat".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) && sender.send(&Message::Heartbeat).is_ok() {
                    std::thread::sleep(interval);
                }
            })
            .expect("spawn heartbeat thread");
        Heartbeats { stop }
    }
}

impl Drop for Heartbeats {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::FrameError;
    use crate::transport::in_process_pair;

    fn pair(timeout: Duration) -> (Connection, Connection) {
        let (a, b) = in_process_pair();
        (Connection::new(a, b"key", timeout), Connection::new(b, b"key", timeout))
    }

    #[test]
    fn heartbeats_keep_a_quiet_peer_alive_until_it_stops() {
        let timeout = Duration::from_millis(120);
        let (a, mut b) = pair(timeout);
        let beats = Heartbeats::start(a.sender.clone(), heartbeat_interval(timeout));
        let sender = a.sender.clone();
        std::thread::spawn(move || {
            std::thread::sleep(timeout * 3);
            sender.send(&Message::Bye { status: 0 }).unwrap();
        });
        // Three timeouts of silence apart from heartbeats: still alive.
        assert_eq!(b.receiver.recv().unwrap().1, Message::Bye { status: 0 });
        drop(beats);
        let started = Instant::now();
        let gone = b.receiver.recv().unwrap_err();
        assert!(matches!(gone.cause, LinkError::Silent(_)), "{gone}");
        let detection = started.elapsed();
        assert!(detection >= timeout && detection < timeout * 4, "detected after {detection:?}");
        drop(a);
    }

    #[test]
    fn closed_link_is_detected_at_once() {
        let (a, mut b) = pair(Duration::from_secs(10));
        a.sender.close();
        let started = Instant::now();
        assert!(matches!(b.receiver.recv().unwrap_err().cause, LinkError::Closed));
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn different_keys_do_not_talk() {
        let (a, b) = in_process_pair();
        let a = Connection::new(a, b"key one", DEFAULT_TIMEOUT);
        let mut b = Connection::new(b, b"key two", DEFAULT_TIMEOUT);
        a.sender.send(&Message::Heartbeat).unwrap();
        let gone = b.receiver.recv().unwrap_err();
        assert!(matches!(gone.cause, LinkError::Frame(FrameError::Unauthenticated { seq: 0 })), "{gone}");
    }
}
