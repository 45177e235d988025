//! Translation in the background: a compile worker thread owned by the
//! [`super::Jit`], the way tiered JITs (HotSpot, V8, Dolphin) compile hot
//! code while the program goes on running colder code.
//!
//! The guest thread sends a [`Request`] when a block becomes hot and goes
//! on interpreting the block; the worker compiles it and sends back a
//! [`Compiled`], which the guest thread installs between blocks if nothing
//! it was made from has changed in the meantime. Only the guest thread
//! touches the code cache, its tables and slots, and guest memory: a
//! request carries a [`CodeSnapshot`] of the instruction words instead of
//! the memory, which is not `Sync` and which the guest writes concurrently.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use super::lower::MemoryPath;
use super::Compiler;
use crate::memory::{Access, GuestMemory, MemFault, PAGE_SIZE};

/// Everything one translation needs, as plain data.
pub(super) struct Request {
    /// The block's guest address.
    pub pc: u32,
    /// The instruction words of the block's page.
    pub code: CodeSnapshot,
    /// [`super::JitConfig::icount`].
    pub icount: bool,
    /// How the block's loads and stores reach guest memory.
    pub memory: MemoryPath,
    /// Host address of the first chaining slot set aside for the block.
    pub slots: u64,
    /// How many slots from `slots` are set aside; code that would use more
    /// is not returned.
    pub slot_count: u32,
    /// Times the guest thread reached the block while the request waited
    /// (it interprets the block meanwhile): the worker compiles the most
    /// wanted request first.
    pub wanted: Arc<AtomicU32>,
}

/// A finished translation.
pub(super) struct Compiled {
    /// The block's guest address ([`Request::pc`]).
    pub pc: u32,
    /// Host code and the number of chaining slots it uses; `None` when the
    /// block cannot be translated (the interpreter runs it).
    pub code: Option<(Vec<u8>, u32)>,
    /// The first word of the next page, when the block's delay slot is
    /// there: the guest thread checks it is still there before installing
    /// the code (that page need not hold code yet, so changes to it are
    /// not watched while the block is translated).
    pub next_page_word: Option<u32>,
}

/// The instruction words of one guest page as the guest thread fetched
/// them ([`GuestMemory::fetch`], so with system mode's instruction
/// translation), each word or why it could not be fetched. Translation
/// reads nothing but instruction words, so the snapshot holds no data:
/// data accesses fault as unmapped.
pub(super) struct CodeSnapshot {
    /// Guest address of the page.
    page: u32,
    /// Its words, then the first word of the next page (where a block's
    /// last delay slot may be).
    words: Box<[Result<u32, MemFault>]>,
}

impl CodeSnapshot {
    /// Fetches every word of the page holding `pc`, and the next page's first.
    pub fn take<M: GuestMemory>(mem: &M, pc: u32) -> CodeSnapshot {
        let page = pc & !(PAGE_SIZE - 1);
        let words = (0..=PAGE_SIZE / 4).map(|i| mem.fetch(page.wrapping_add(4 * i))).collect();
        CodeSnapshot { page, words }
    }
}

impl GuestMemory for CodeSnapshot {
    fn fetch(&self, addr: u32) -> Result<u32, MemFault> {
        match addr.checked_sub(self.page) {
            Some(offset) if offset <= PAGE_SIZE && offset % 4 == 0 => self.words[offset as usize / 4],
            _ => Err(MemFault::Unmapped { addr, access: Access::Execute }),
        }
    }
    fn read_u8(&self, addr: u32) -> Result<u8, MemFault> {
        Err(MemFault::Unmapped { addr, access: Access::Read })
    }
    fn read_u16(&self, addr: u32) -> Result<u16, MemFault> {
        Err(MemFault::Unmapped { addr, access: Access::Read })
    }
    fn read_u32(&self, addr: u32) -> Result<u32, MemFault> {
        Err(MemFault::Unmapped { addr, access: Access::Read })
    }
    fn read_u64(&self, addr: u32) -> Result<u64, MemFault> {
        Err(MemFault::Unmapped { addr, access: Access::Read })
    }
    fn write_u8(&mut self, addr: u32, _: u8) -> Result<(), MemFault> {
        Err(MemFault::Unmapped { addr, access: Access::Write })
    }
    fn write_u16(&mut self, addr: u32, _: u16) -> Result<(), MemFault> {
        Err(MemFault::Unmapped { addr, access: Access::Write })
    }
    fn write_u32(&mut self, addr: u32, _: u32) -> Result<(), MemFault> {
        Err(MemFault::Unmapped { addr, access: Access::Write })
    }
    fn write_u64(&mut self, addr: u32, _: u64) -> Result<(), MemFault> {
        Err(MemFault::Unmapped { addr, access: Access::Write })
    }
}

/// What the guest thread and the worker share.
struct Shared {
    state: Mutex<State>,
    /// Signalled when `state` changes.
    changed: Condvar,
}

struct State {
    /// Requests not yet started, oldest first.
    queue: VecDeque<Request>,
    /// The worker starts no compile while set ([`Worker::hold`]).
    held: bool,
    /// The worker is to exit.
    closing: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent whatever panicked while holding it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The compile worker thread; joined when dropped.
pub(super) struct Worker {
    shared: Arc<Shared>,
    results: mpsc::Receiver<Compiled>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts a thread that compiles requests with `compiler`.
    pub fn start(mut compiler: Compiler) -> std::io::Result<Worker> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State { queue: VecDeque::new(), held: false, closing: false }),
            changed: Condvar::new(),
        });
        let (done, results) = mpsc::channel();
        let theirs = Arc::clone(&shared);
        let thread = std::thread::Builder::new().name("hbft-jit".into()).spawn(move || {
            while let Some(request) = next_request(&theirs) {
                if done.send(compiler.translate(&request)).is_err() {
                    break;
                }
            }
        })?;
        Ok(Worker { shared, results, thread: Some(thread) })
    }

    /// Queues a request.
    pub fn send(&self, request: Request) {
        self.shared.lock().queue.push_back(request);
        self.shared.changed.notify_one();
    }

    /// A finished translation, if one is ready.
    pub fn try_recv(&self) -> Option<Compiled> {
        self.results.try_recv().ok()
    }

    /// The next finished translation, waiting for it; `None` if the
    /// worker is gone (it panicked).
    pub fn recv(&self) -> Option<Compiled> {
        self.results.recv().ok()
    }

    /// Keeps the worker from starting another compile while `held` (a
    /// compile under way finishes).
    pub fn hold(&self, held: bool) {
        self.shared.lock().held = held;
        self.shared.changed.notify_one();
    }
}

/// The worker's next request; `None` when it is to exit.
fn next_request(shared: &Shared) -> Option<Request> {
    let mut state = shared.lock();
    loop {
        if state.closing {
            return None;
        }
        if !state.held {
            // The block interpreted most while waiting; of equals, the
            // newest (the program's current phase).
            let most_wanted = (0..state.queue.len()).max_by_key(|&i| state.queue[i].wanted.load(Ordering::Relaxed));
            if let Some(request) = most_wanted.and_then(|i| state.queue.remove(i)) {
                return Some(request);
            }
        }
        state = shared.changed.wait(state).unwrap_or_else(PoisonError::into_inner);
    }
}

impl Drop for Worker {
    /// Drops the queued requests and waits for the compile under way.
    fn drop(&mut self) {
        {
            let mut state = self.shared.lock();
            state.closing = true;
            state.queue.clear();
        }
        self.shared.changed.notify_one();
        if let Some(thread) = self.thread.take() {
            // A worker that panicked has reported it already.
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jit::lower::DirtyMarking;

    fn request(pc: u32, wanted: u32) -> Request {
        Request {
            pc,
            code: CodeSnapshot { page: 0, words: Box::new([]) },
            icount: true,
            memory: MemoryPath { data_tlb: false, loads_fault: false, stores_fault: false, dirty: DirtyMarking::Off },
            slots: 0,
            slot_count: 0,
            wanted: Arc::new(AtomicU32::new(wanted)),
        }
    }

    #[test]
    fn the_most_wanted_request_is_compiled_first_and_of_equals_the_newest() {
        let queue = [(0x100, 0), (0x200, 5), (0x300, 5), (0x400, 1)].map(|(pc, w)| request(pc, w)).into();
        let shared = Shared { state: Mutex::new(State { queue, held: false, closing: false }), changed: Condvar::new() };
        let order: Vec<u32> = (0..4).map(|_| next_request(&shared).expect("not closing").pc).collect();
        assert_eq!(order, [0x300, 0x200, 0x400, 0x100]);
        shared.lock().closing = true;
        assert!(next_request(&shared).is_none());
    }

    /// Guest memory whose words are their addresses, with the second page
    /// not executable.
    struct Words;

    impl GuestMemory for Words {
        fn fetch(&self, addr: u32) -> Result<u32, MemFault> {
            match addr / PAGE_SIZE {
                1 => Err(MemFault::Protection { addr, access: Access::Execute }),
                _ => Ok(addr),
            }
        }
        fn read_u8(&self, addr: u32) -> Result<u8, MemFault> {
            Ok(addr as u8)
        }
        fn read_u16(&self, addr: u32) -> Result<u16, MemFault> {
            Ok(addr as u16)
        }
        fn read_u32(&self, addr: u32) -> Result<u32, MemFault> {
            Ok(addr)
        }
        fn read_u64(&self, addr: u32) -> Result<u64, MemFault> {
            Ok(addr.into())
        }
        fn write_u8(&mut self, _: u32, _: u8) -> Result<(), MemFault> {
            Ok(())
        }
        fn write_u16(&mut self, _: u32, _: u16) -> Result<(), MemFault> {
            Ok(())
        }
        fn write_u32(&mut self, _: u32, _: u32) -> Result<(), MemFault> {
            Ok(())
        }
        fn write_u64(&mut self, _: u32, _: u64) -> Result<(), MemFault> {
            Ok(())
        }
    }

    #[test]
    fn a_snapshot_holds_the_words_of_its_page_as_fetched_and_nothing_else() {
        let code = CodeSnapshot::take(&Words, 2 * PAGE_SIZE + 0x40);
        assert_eq!(code.fetch(2 * PAGE_SIZE), Ok(2 * PAGE_SIZE));
        assert_eq!(code.fetch(3 * PAGE_SIZE - 4), Ok(3 * PAGE_SIZE - 4));
        let outside = |addr| Err(MemFault::Unmapped { addr, access: Access::Execute });
        // The next page's first word, where a block's last delay slot may be.
        assert_eq!(code.fetch(3 * PAGE_SIZE), Ok(3 * PAGE_SIZE));
        assert_eq!(code.fetch(3 * PAGE_SIZE + 4), outside(3 * PAGE_SIZE + 4));
        assert_eq!(code.fetch(2 * PAGE_SIZE - 4), outside(2 * PAGE_SIZE - 4));
        assert_eq!(code.read_u32(2 * PAGE_SIZE), Err(MemFault::Unmapped { addr: 2 * PAGE_SIZE, access: Access::Read }));
        let refused = CodeSnapshot::take(&Words, PAGE_SIZE + 8);
        assert_eq!(refused.fetch(PAGE_SIZE + 8), Err(MemFault::Protection { addr: PAGE_SIZE + 8, access: Access::Execute }));
        let before_refused = CodeSnapshot::take(&Words, 0);
        assert_eq!(before_refused.fetch(PAGE_SIZE), Err(MemFault::Protection { addr: PAGE_SIZE, access: Access::Execute }));
    }
}
