//! Transports: move whole frames between the replicas.
//!
//! A link has a sending and a receiving half so that heartbeats, acks and
//! data can be sent from one thread while another blocks on receipt. TCP
//! reads frames on a reader thread (the header's length field delimits
//! them); the in-process link is a pair of channels, for tests.

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

/// Frames (or the error that ended the stream) from the reader thread.
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

/// One whole frame from `stream`; `Ok(None)` at a clean end of stream.
fn read_frame(stream: &mut impl Read) -> Result<Option<Vec<u8>>, LinkError> {
    let closed = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset => LinkError::Closed,
        _ => LinkError::Io(e),
    };
    let mut header = [0u8; HEADER_LEN];
    match stream.read_exact(&mut header[..1]) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(closed(e)),
    }
    stream.read_exact(&mut header[1..]).map_err(closed)?;
    let len = frame_len(&header)?;
    let mut frame = vec![0u8; len];
    frame[..HEADER_LEN].copy_from_slice(&header);
    stream.read_exact(&mut frame[HEADER_LEN..]).map_err(closed)?;
    Ok(Some(frame))
}

/// A link over a connected TCP stream.
pub fn tcp_link(stream: TcpStream) -> std::io::Result<Link> {
    // Frames are small and latency-bound: no Nagle delay.
    stream.set_nodelay(true)?;
    let mut reader = stream.try_clone()?;
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new().name("hbft-link-reader".into()).spawn(move || loop {
        let result = read_frame(&mut reader);
        let end = !matches!(result, Ok(Some(_)));
        let item = match result {
            Ok(Some(frame)) => Ok(frame),
            Ok(None) => Err(LinkError::Closed),
            Err(e) => Err(e),
        };
        if tx.send(item).is_err() || end {
            break;
        }
    })?;
    Ok((Box::new(TcpTx(stream)), Box::new(ChannelRx(rx))))
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
            (0..3).map(|i| sealer.seal(&Message::EnvResult(vec![i; 1000 * i as usize]))).collect();
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
