//! Transports: move whole frames between the replicas.
//!
//! A link has a sending and a receiving half so that heartbeats, acks and
//! data can be sent from one thread while another blocks on receipt. TCP
//! frames are delimited by the header's length field; the in-process link
//! is a pair of channels, for tests.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

use crate::frame::{frame_len, FrameError, HEADER_LEN};

/// Why nothing was received or sent.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("peer silent for {} ms", .0.as_millis())]
    Silent(Duration),
    #[error("connection closed by peer")]
    Closed,
    #[error("bad frame: {0}")]
    Frame(#[from] FrameError),
    #[error("connection error: {0}")]
    Io(#[from] std::io::Error),
}

/// Sends frames.
pub trait LinkTx: Send {
    fn send(&mut self, frame: &[u8]) -> Result<(), LinkError>;
    /// Ends the connection in both directions (the peer sees it closed).
    fn close(&mut self);
}

/// Receives frames.
pub trait LinkRx: Send {
    /// The next whole frame, waiting at most `timeout`.
    fn recv(&mut self, timeout: Duration) -> Result<Vec<u8>, LinkError>;
}

/// Both halves of a link.
pub type Link = (Box<dyn LinkTx>, Box<dyn LinkRx>);

struct TcpTx(TcpStream);

impl LinkTx for TcpTx {
    fn send(&mut self, frame: &[u8]) -> Result<(), LinkError> {
        self.0.write_all(frame).map_err(|e| match e.kind() {
            std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset => LinkError::Closed,
            _ => LinkError::Io(e),
        })
    }

    fn close(&mut self) {
        let _ = self.0.shutdown(Shutdown::Both);
    }
}

/// Frames sent through a channel (the in-process link).
struct ChannelRx(Receiver<Result<Vec<u8>, LinkError>>);

impl LinkRx for ChannelRx {
    fn recv(&mut self, timeout: Duration) -> Result<Vec<u8>, LinkError> {
        match self.0.recv_timeout(timeout) {
            Ok(result) => result,
            Err(RecvTimeoutError::Timeout) => Err(LinkError::Silent(timeout)),
            Err(RecvTimeoutError::Disconnected) => Err(LinkError::Closed),
        }
    }
}

/// Frames read straight from the socket by the thread that waits for them
/// (no relay thread: every thread hop is a wake-up on the acknowledgment's
/// path). Bytes of a frame that is not whole yet when the wait times out
/// are kept for the next call.
struct TcpRx {
    stream: TcpStream,
    buffered: Vec<u8>,
    /// The socket's read timeout, set only when it changes (a system call
    /// less on every wait for a frame).
    read_timeout: Option<Duration>,
    /// What one read brings in, kept across calls.
    chunk: Box<[u8]>,
}

impl TcpRx {
    /// The first whole frame in the buffer, if there is one.
    fn whole_frame(&mut self) -> Result<Option<Vec<u8>>, LinkError> {
        let Some(header) = self.buffered.first_chunk::<HEADER_LEN>() else { return Ok(None) };
        let len = frame_len(header)?;
        if self.buffered.len() < len {
            return Ok(None);
        }
        let rest = self.buffered.split_off(len);
        Ok(Some(std::mem::replace(&mut self.buffered, rest)))
    }
}

impl LinkRx for TcpRx {
    fn recv(&mut self, timeout: Duration) -> Result<Vec<u8>, LinkError> {
        // A zero timeout would mean "block forever" to the socket.
        let timeout = timeout.max(Duration::from_micros(1));
        if self.read_timeout != Some(timeout) {
            self.stream.set_read_timeout(Some(timeout))?;
            self.read_timeout = Some(timeout);
        }
        loop {
            if let Some(frame) = self.whole_frame()? {
                return Ok(frame);
            }
            match self.stream.read(&mut self.chunk) {
                Ok(0) => return Err(LinkError::Closed),
                Ok(n) => self.buffered.extend_from_slice(&self.chunk[..n]),
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                    return Err(LinkError::Silent(timeout))
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Err(LinkError::Closed),
                Err(e) => return Err(LinkError::Io(e)),
            }
        }
    }
}

/// A link over a connected TCP stream.
pub fn tcp_link(stream: TcpStream) -> std::io::Result<Link> {
    // Frames are small and latency-bound: no Nagle delay.
    stream.set_nodelay(true)?;
    let reader = stream.try_clone()?;
    let rx = TcpRx { stream: reader, buffered: Vec::new(), read_timeout: None, chunk: vec![0; 16 << 10].into() };
    Ok((Box::new(TcpTx(stream)), Box::new(rx)))
}

struct MemTx(Option<Sender<Result<Vec<u8>, LinkError>>>);

impl LinkTx for MemTx {
    fn send(&mut self, frame: &[u8]) -> Result<(), LinkError> {
        let tx = self.0.as_ref().ok_or(LinkError::Closed)?;
        tx.send(Ok(frame.to_vec())).map_err(|_| LinkError::Closed)
    }

    fn close(&mut self) {
        self.0 = None;
    }
}

/// Two connected in-process links (for tests): what one sends the other receives.
pub fn in_process_pair() -> (Link, Link) {
    let (a_tx, b_rx) = mpsc::channel();
    let (b_tx, a_rx) = mpsc::channel();
    (
        (Box::new(MemTx(Some(a_tx))), Box::new(ChannelRx(a_rx))),
        (Box::new(MemTx(Some(b_tx))), Box::new(ChannelRx(b_rx))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{Message, Sealer};
    use std::net::TcpListener;

    const T: Duration = Duration::from_secs(5);

    #[test]
    fn tcp_carries_frames_and_reports_close() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let client = std::thread::spawn(move || TcpStream::connect(addr).unwrap());
        let (server, _) = listener.accept().unwrap();
        let (mut a_tx, _a_rx) = tcp_link(client.join().unwrap()).unwrap();
        let (_b_tx, mut b_rx) = tcp_link(server).unwrap();
        let mut sealer = Sealer::new(b"k");
        let frames: Vec<Vec<u8>> =
            (0..3).map(|i| sealer.seal(&Message::StepResults(vec![i; 1000 * i as usize]))).collect();
        for f in &frames {
            a_tx.send(f).unwrap();
        }
        for f in &frames {
            assert_eq!(&b_rx.recv(T).unwrap(), f);
        }
        assert!(matches!(b_rx.recv(Duration::from_millis(20)), Err(LinkError::Silent(_))));
        a_tx.close();
        assert!(matches!(b_rx.recv(T), Err(LinkError::Closed)));
    }

    #[test]
    fn a_frame_split_across_a_timeout_is_kept_whole() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let client = std::thread::spawn(move || TcpStream::connect(addr).unwrap());
        let (server, _) = listener.accept().unwrap();
        let mut raw = client.join().unwrap();
        let (_tx, mut rx) = tcp_link(server).unwrap();
        let frame = Sealer::new(b"k").seal(&Message::StepResults(vec![7; 100]));
        raw.write_all(&frame[..30]).unwrap();
        assert!(matches!(rx.recv(Duration::from_millis(20)), Err(LinkError::Silent(_))));
        raw.write_all(&frame[30..]).unwrap();
        assert_eq!(rx.recv(T).unwrap(), frame);
    }

    #[test]
    fn tcp_rejects_garbage_header() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let client = std::thread::spawn(move || {
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            s
        });
        let (server, _) = listener.accept().unwrap();
        let _keep = client.join().unwrap();
        let (_tx, mut rx) = tcp_link(server).unwrap();
        assert!(matches!(rx.recv(T), Err(LinkError::Frame(FrameError::BadMagic))));
    }

    #[test]
    fn in_process_pair_is_crossed() {
        let ((mut a_tx, mut a_rx), (mut b_tx, mut b_rx)) = in_process_pair();
        a_tx.send(b"to b").unwrap();
        b_tx.send(b"to a").unwrap();
        assert_eq!(b_rx.recv(T).unwrap(), b"to b");
        assert_eq!(a_rx.recv(T).unwrap(), b"to a");
        a_tx.close();
        assert!(matches!(b_rx.recv(T), Err(LinkError::Closed)));
    }
}
