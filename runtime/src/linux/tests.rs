//! Start-up stack layout, system calls over a scripted environment and over
//! real temporary files, and light-weight system calls.

use hbft_frontend::elf::{ElfImage, ImageKind, Perms, Segment};
use hbft_translator::memory::GuestMemory;

use super::env::*;
use super::numbers::nr;
use super::startup::*;
use super::*;
use crate::memory::{AddressSpace, Layout, PERM_READ, PERM_WRITE};

fn space() -> AddressSpace {
    AddressSpace::new(Layout::linux_parisc32(100 << 20)).expect("reservation")
}

fn tiny_image() -> ElfImage {
    ElfImage {
        kind: ImageKind::Executable,
        entry: 0x10054,
        segments: vec![
            Segment {
                vaddr: 0x10000,
                mem_size: 0x100,
                file_offset: 0,
                perms: Perms { read: true, write: false, exec: true },
                data: vec![0xaa; 0x100],
            },
            Segment {
                vaddr: 0x10f00,
                mem_size: 0x1200,
                file_offset: 0x100,
                perms: Perms { read: true, write: true, exec: false },
                data: vec![0xbb; 0x10],
            },
        ],
        interp: None,
        phdr_addr: Some(0x10034),
        phent: 32,
        phnum: 2,
        exec_stack: false,
        symbols: vec![],
    }
}

fn word(mem: &AddressSpace, addr: u32) -> u32 {
    mem.read_u32(addr).unwrap()
}

#[test]
fn initial_stack_matches_binfmt_elf_for_parisc() {
    let mut mem = space();
    let argv: [&[u8]; 2] = [b"prog", b"arg one"];
    let envp: [&[u8]; 1] = [b"HOME=/"];
    let init = load_program(&mut mem, &tiny_image(), None, &argv, &envp, b"/bin/prog").unwrap();

    assert_eq!(init.pc, 0x10054 | 3);
    assert_eq!(init.gr[31], init.pc);
    assert_eq!(init.gr[25], 2);
    assert_eq!(init.gr[23], 0);
    let argv_addr = init.gr[24];
    assert_eq!(word(&mem, argv_addr - 4), 2, "argc precedes argv");
    let string = |addr| mem.read_cstring(addr, 100).unwrap();
    assert_eq!(string(word(&mem, argv_addr)), b"prog");
    assert_eq!(string(word(&mem, argv_addr + 4)), b"arg one");
    assert_eq!(word(&mem, argv_addr + 8), 0);
    assert_eq!(string(word(&mem, argv_addr + 12)), b"HOME=/");
    assert_eq!(word(&mem, argv_addr + 16), 0);

    // The strings sit at the bottom of the upward-growing stack.
    assert!(word(&mem, argv_addr) >= init.stack_base && word(&mem, argv_addr) < argv_addr);
    let mut auxv = Vec::new();
    let mut at = argv_addr + 20;
    loop {
        let (key, value) = (word(&mem, at), word(&mem, at + 4));
        at += 8;
        if key == AT_NULL {
            break;
        }
        auxv.push((key, value));
    }
    assert_eq!(auxv, init.auxv);
    assert_eq!(at % 16, 0, "tables end on a 16-byte boundary (STACK_ROUND)");
    assert_eq!(init.gr[30], (at + 63) & !63);
    let aux = |key| auxv.iter().find(|&&(k, _)| k == key).map(|&(_, v)| v).unwrap();
    assert_eq!(aux(AT_PHDR), 0x10034);
    assert_eq!(aux(AT_PHNUM), 2);
    assert_eq!(aux(AT_ENTRY), 0x10054);
    assert_eq!(aux(AT_PAGESZ), 4096);
    assert_eq!(aux(AT_BASE), 0);
    assert_eq!(string(aux(AT_EXECFN)), b"/bin/prog");
    assert_eq!(string(aux(AT_PLATFORM)), b"PARISC");
    let mut random = [0u8; 16];
    mem.read_bytes(aux(AT_RANDOM), &mut random).unwrap();
    assert_eq!(random, AT_RANDOM_BYTES);

    // Segments: bytes, the shared page gets both permissions, bss is zero.
    assert_eq!(mem.fetch(0x10054), Ok(0xaaaa_aaaa));
    assert_eq!(mem.read_u8(0x10f00), Ok(0xbb));
    assert_eq!(mem.read_u8(0x11000), Ok(0));
    assert!(mem.write_u8(0x11000, 1).is_ok());
    assert_eq!(init.brk, 0x13000);
    assert_eq!(mem.current_brk(), 0x13000);
}

#[test]
fn start_up_is_deterministic() {
    let build = || {
        let mut mem = space();
        let init = load_program(&mut mem, &tiny_image(), Some(&tiny_image_dyn()), &[b"a"], &[], b"a").unwrap();
        let stack: Vec<u8> = (0..4).flat_map(|p| mem.page_bytes((init.stack_base >> 12) + p).unwrap().to_vec()).collect();
        (init, stack)
    };
    let (first, stack) = build();
    assert_eq!((first.clone(), stack), build());
    let base = first.interp_base.unwrap();
    assert_eq!(first.pc, (0x54 + base) | 3, "dynamic programs start in the interpreter");
    assert!(base < Layout::linux_parisc32(100 << 20).mmap_top);
}

fn tiny_image_dyn() -> ElfImage {
    let mut image = tiny_image();
    image.kind = ImageKind::SharedObject;
    for seg in &mut image.segments {
        seg.vaddr -= 0x10000;
    }
    image.entry = 0x54;
    image
}

/// A scripted environment: output is captured, time is fixed, files do not exist.
type Output = std::rc::Rc<std::cell::RefCell<Vec<(Handle, Vec<u8>)>>>;

#[derive(Default)]
struct Script {
    written: Output,
    input: Vec<u8>,
}

impl Environment for Script {
    fn openat(&mut self, _: Dir, _: &[u8], _: i32, _: u32) -> SysResult<Handle> {
        Err(Errno::ENOENT)
    }
    fn close(&mut self, _: Handle) -> SysResult<()> {
        Ok(())
    }
    fn read(&mut self, _: Handle, len: usize) -> SysResult<Vec<u8>> {
        let n = len.min(self.input.len());
        Ok(self.input.drain(..n).collect())
    }
    fn pread(&mut self, _: Handle, _: usize, _: i64) -> SysResult<Vec<u8>> {
        Err(Errno::ESPIPE)
    }
    fn write(&mut self, h: Handle, data: &[u8]) -> SysResult<usize> {
        self.written.borrow_mut().push((h, data.to_vec()));
        Ok(data.len())
    }
    fn pwrite(&mut self, _: Handle, _: &[u8], _: i64) -> SysResult<usize> {
        Err(Errno::ESPIPE)
    }
    fn lseek(&mut self, _: Handle, _: i64, _: i32) -> SysResult<i64> {
        Err(Errno::ESPIPE)
    }
    fn fstat(&mut self, _: Handle) -> SysResult<FileStat> {
        Ok(FileStat { mode: 0o20620, size: 0, ..FileStat::default() })
    }
    fn fstatat(&mut self, _: Dir, _: &[u8], _: bool) -> SysResult<FileStat> {
        Err(Errno::ENOENT)
    }
    fn getdents(&mut self, _: Handle, _: usize) -> SysResult<Vec<DirEntry>> {
        Err(Errno::ENOTDIR)
    }
    fn readlinkat(&mut self, _: Dir, _: &[u8]) -> SysResult<Vec<u8>> {
        Err(Errno::ENOENT)
    }
    fn faccessat(&mut self, _: Dir, _: &[u8], _: i32) -> SysResult<()> {
        Err(Errno::ENOENT)
    }
    fn unlinkat(&mut self, _: Dir, _: &[u8], _: bool) -> SysResult<()> {
        Err(Errno::ENOENT)
    }
    fn mkdirat(&mut self, _: Dir, _: &[u8], _: u32) -> SysResult<()> {
        Err(Errno::EACCES)
    }
    fn renameat(&mut self, _: Dir, _: &[u8], _: Dir, _: &[u8]) -> SysResult<()> {
        Err(Errno::ENOENT)
    }
    fn dup(&mut self, h: Handle) -> SysResult<Handle> {
        Ok(h + 100)
    }
    fn status_flags(&mut self, _: Handle) -> SysResult<i32> {
        Ok(libc::O_RDWR | libc::O_APPEND)
    }
    fn set_status_flags(&mut self, _: Handle, _: i32) -> SysResult<()> {
        Ok(())
    }
    fn pipe(&mut self) -> SysResult<(Handle, Handle)> {
        Ok((50, 51))
    }
    fn tcgets(&mut self, _: Handle) -> SysResult<Termios> {
        Err(Errno::ENOTTY)
    }
    fn winsize(&mut self, _: Handle) -> SysResult<WinSize> {
        Err(Errno::ENOTTY)
    }
    fn poll(&mut self, fds: &[(Handle, i16)], _: i32) -> SysResult<Vec<i16>> {
        Ok(fds.iter().map(|&(_, events)| events & 0x4).collect())
    }
    fn clock_gettime(&mut self, _: u32) -> SysResult<Timespec> {
        Ok(Timespec { sec: 0x1_2345_6789, nsec: 42 })
    }
    fn sleep(&mut self, _: Timespec) {}
    fn random_bytes(&mut self, len: usize) -> Vec<u8> {
        vec![7; len]
    }
    fn getcwd(&mut self) -> SysResult<Vec<u8>> {
        Ok(b"/work".to_vec())
    }
    fn sysinfo(&mut self) -> SysResult<SysInfo> {
        Ok(SysInfo::default())
    }
}

const SCRATCH: u32 = 0x0010_0000;

fn setup(script: Script) -> (LinuxProcess, AddressSpace) {
    let mut mem = space();
    mem.map_fixed(SCRATCH, 0x10000, PERM_READ | PERM_WRITE).unwrap();
    (LinuxProcess::new(Box::new(script)), mem)
}

fn ret(outcome: SyscallOutcome) -> u32 {
    match outcome {
        SyscallOutcome::Return(v) => v,
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn write_goes_to_the_environment_and_faults_are_efault() {
    let script = Script::default();
    let written = script.written.clone();
    let (mut p, mut mem) = setup(script);
    mem.write_bytes(SCRATCH, b"hello\n").unwrap();
    assert_eq!(ret(p.syscall(&mut mem, nr::write, [1, SCRATCH, 6, 0, 0, 0])), 6);
    assert_eq!(written.borrow().as_slice(), &[(1, b"hello\n".to_vec())]);
    assert_eq!(ret(p.syscall(&mut mem, nr::write, [1, 0x9000_0000, 6, 0, 0, 0])), Errno::EFAULT.as_return());
    assert_eq!(ret(p.syscall(&mut mem, nr::write, [9, SCRATCH, 6, 0, 0, 0])), Errno::EBADF.as_return());
}

#[test]
fn read_and_readv_copy_into_guest_memory() {
    let (mut p, mut mem) = setup(Script { input: b"abcdefgh".to_vec(), ..Script::default() });
    assert_eq!(ret(p.syscall(&mut mem, nr::read, [0, SCRATCH, 3, 0, 0, 0])), 3);
    // iovec { SCRATCH+0x100, 2 }, { SCRATCH+0x200, 10 }
    for (i, v) in [SCRATCH + 0x100, 2, SCRATCH + 0x200, 10].iter().enumerate() {
        mem.write_u32(SCRATCH + 0x40 + i as u32 * 4, *v).unwrap();
    }
    assert_eq!(ret(p.syscall(&mut mem, nr::readv, [0, SCRATCH + 0x40, 2, 0, 0, 0])), 5);
    let mut got = [0u8; 3];
    mem.read_bytes(SCRATCH + 0x200, &mut got).unwrap();
    assert_eq!(&got, b"fgh");
    assert_eq!(mem.read_u16(SCRATCH + 0x100), Ok(u16::from_be_bytes(*b"de")));
}

#[test]
fn identity_uname_time_and_unknown_calls() {
    let (mut p, mut mem) = setup(Script::default());
    assert_eq!(ret(p.syscall(&mut mem, nr::getpid, [0; 6])), process::GUEST_PID);
    assert_eq!(ret(p.syscall(&mut mem, nr::uname, [SCRATCH, 0, 0, 0, 0, 0])), 0);
    assert_eq!(mem.read_cstring(SCRATCH + 4 * 65, 65).unwrap(), b"parisc");
    assert_eq!(ret(p.syscall(&mut mem, nr::clock_gettime64, [1, SCRATCH, 0, 0, 0, 0])), 0);
    assert_eq!(mem.read_u64(SCRATCH), Ok(0x1_2345_6789));
    assert_eq!(mem.read_u64(SCRATCH + 8), Ok(42));
    assert_eq!(ret(p.syscall(&mut mem, nr::clock_gettime, [1, SCRATCH, 0, 0, 0, 0])), 0);
    assert_eq!(mem.read_u32(SCRATCH), Ok(0x2345_6789));
    assert_eq!(ret(p.syscall(&mut mem, nr::acct, [0; 6])), 251u32.wrapping_neg(), "ENOSYS is 251 on parisc");
    assert_eq!(p.syscall(&mut mem, nr::exit_group, [3, 0, 0, 0, 0, 0]), SyscallOutcome::Exit(3));
    assert_eq!(p.syscall(&mut mem, nr::tgkill, [process::GUEST_PID, process::GUEST_PID, 6, 0, 0, 0]), SyscallOutcome::Signal(6));
    assert_eq!(ret(p.syscall(&mut mem, nr::ioctl, [1, 0x4024_5410, SCRATCH, 0, 0, 0])), Errno::ENOTTY.as_return());
    assert_eq!(ret(p.syscall(&mut mem, nr::open, [SCRATCH + 0x1000, 0, 0, 0, 0, 0])), Errno::ENOENT.as_return());
}

#[test]
fn memory_calls_follow_linux() {
    let (mut p, mut mem) = setup(Script::default());
    mem.init_brk(0x0020_0000);
    assert_eq!(ret(p.syscall(&mut mem, nr::brk, [0; 6])), 0x0020_0000);
    assert_eq!(ret(p.syscall(&mut mem, nr::brk, [0x0020_2000, 0, 0, 0, 0, 0])), 0x0020_2000);
    // MAP_PRIVATE | MAP_ANONYMOUS (0x10 on parisc)
    let anon = [0, 0x2000, 3, 0x12, u32::MAX, 0];
    let a = ret(p.syscall(&mut mem, nr::mmap2, anon));
    assert_eq!(a, mem.layout().mmap_top - 0x2000);
    assert_eq!(mem.write_u32(a, 1), Ok(()));
    assert_eq!(ret(p.syscall(&mut mem, nr::mprotect, [a, 0x1000, 1, 0, 0, 0])), 0);
    assert!(mem.write_u32(a, 1).is_err());
    assert_eq!(ret(p.syscall(&mut mem, nr::munmap, [a, 0x2000, 0, 0, 0, 0])), 0);
    assert_eq!(ret(p.syscall(&mut mem, nr::mmap, [0, 0x1000, 3, 0x12, 0, 5])), Errno::EINVAL.as_return());
    assert_eq!(ret(p.syscall(&mut mem, nr::mmap2, [0, 0x1000, 3, 0x02, 77, 0])), Errno::EBADF.as_return());
}

#[test]
fn signal_state_round_trips() {
    let (mut p, mut mem) = setup(Script::default());
    let act = SCRATCH;
    mem.write_bytes(act, &[0, 1, 0, 0, 0, 0, 0, 0x10, 0, 0, 2, 0, 0, 0, 0, 1]).unwrap();
    assert_eq!(ret(p.syscall(&mut mem, nr::rt_sigaction, [11, act, 0, 8, 0, 0])), 0);
    let stored = p.sigaction(11).unwrap();
    assert_eq!((stored.handler, stored.flags, stored.mask), (0x10000, 0x10, (1 << 32) | 0x200));
    assert_eq!(ret(p.syscall(&mut mem, nr::rt_sigaction, [11, 0, SCRATCH + 0x20, 8, 0, 0])), 0);
    let mut back = [0u8; 16];
    mem.read_bytes(SCRATCH + 0x20, &mut back).unwrap();
    assert_eq!(back, [0, 1, 0, 0, 0, 0, 0, 0x10, 0, 0, 2, 0, 0, 0, 0, 1]);
    assert_eq!(ret(p.syscall(&mut mem, nr::rt_sigaction, [9, act, 0, 8, 0, 0])), Errno::EINVAL.as_return());
    // Block everything: SIGKILL (9) and SIGSTOP (24) stay unblocked.
    mem.write_bytes(SCRATCH + 0x40, &[0xff; 8]).unwrap();
    assert_eq!(ret(p.syscall(&mut mem, nr::rt_sigprocmask, [0, SCRATCH + 0x40, 0, 8, 0, 0])), 0);
    assert_eq!(p.signal_mask(), !((1 << 8) | (1 << 23)));
}

#[test]
fn descriptors_are_lowest_free_and_deterministic() {
    let (mut p, mut mem) = setup(Script::default());
    assert_eq!(ret(p.syscall(&mut mem, nr::pipe2, [SCRATCH, 0o10000000, 0, 0, 0, 0])), 0);
    assert_eq!((mem.read_u32(SCRATCH), mem.read_u32(SCRATCH + 4)), (Ok(3), Ok(4)));
    assert_eq!(ret(p.syscall(&mut mem, nr::fcntl64, [3, 1, 0, 0, 0, 0])), 1, "FD_CLOEXEC");
    assert_eq!(ret(p.syscall(&mut mem, nr::close, [3, 0, 0, 0, 0, 0])), 0);
    assert_eq!(ret(p.syscall(&mut mem, nr::dup, [1, 0, 0, 0, 0, 0])), 3);
    assert_eq!(ret(p.syscall(&mut mem, nr::dup2, [1, 10, 0, 0, 0, 0])), 10);
    // O_RDWR | O_APPEND on the host is O_RDWR | parisc O_APPEND (0o10) | O_LARGEFILE.
    assert_eq!(ret(p.syscall(&mut mem, nr::fcntl64, [10, 3, 0, 0, 0, 0])), 0o2 | 0o10 | 0o4000);
}

#[test]
fn host_files_round_trip_through_the_live_environment() {
    let dir = std::env::temp_dir().join(format!("hbft-runtime-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("file");
    let mut path_bytes = path.to_str().unwrap().as_bytes().to_vec();
    path_bytes.push(0);
    let mut mem = space();
    mem.map_fixed(SCRATCH, 0x10000, PERM_READ | PERM_WRITE).unwrap();
    let mut p = LinuxProcess::new(Box::new(HostEnvironment));
    mem.write_bytes(SCRATCH, &path_bytes).unwrap();
    mem.write_bytes(SCRATCH + 0x1000, b"0123456789").unwrap();
    // O_RDWR | O_CREAT (parisc 0o400) | O_TRUNC
    let fd = ret(p.syscall(&mut mem, nr::openat, [-100i32 as u32, SCRATCH, 0o1402, 0o644, 0, 0]));
    assert_eq!(fd, 3);
    assert_eq!(ret(p.syscall(&mut mem, nr::write, [fd, SCRATCH + 0x1000, 10, 0, 0, 0])), 10);
    assert_eq!(ret(p.syscall(&mut mem, nr::pread64, [fd, SCRATCH + 0x2000, 4, 0, 3, 0])), 4);
    assert_eq!(mem.read_u32(SCRATCH + 0x2000), Ok(u32::from_be_bytes(*b"3456")));
    assert_eq!(ret(p.syscall(&mut mem, nr::_llseek, [fd, 0, 2, SCRATCH + 0x3000, 0, 0])), 0);
    assert_eq!(mem.read_u64(SCRATCH + 0x3000), Ok(2));
    assert_eq!(ret(p.syscall(&mut mem, nr::fstat64, [fd, SCRATCH + 0x4000, 0, 0, 0, 0])), 0);
    assert_eq!(mem.read_u64(SCRATCH + 0x4000 + 48), Ok(10), "st_size at offset 48");
    assert_eq!(mem.read_u32(SCRATCH + 0x4000 + 16).map(|m| m & 0o170000), Ok(0o100000));
    let file_map = ret(p.syscall(&mut mem, nr::mmap2, [0, 0x1000, 1, 0x02, fd, 0]));
    assert_eq!(mem.read_u32(file_map), Ok(u32::from_be_bytes(*b"0123")));
    assert_eq!(ret(p.syscall(&mut mem, nr::close, [fd, 0, 0, 0, 0, 0])), 0);
    // Errors come back in parisc numbering: ENOTEMPTY is 39 on the host, 247 here.
    let mut dir_bytes = dir.to_str().unwrap().as_bytes().to_vec();
    dir_bytes.push(0);
    mem.write_bytes(SCRATCH + 0x5000, &dir_bytes).unwrap();
    assert_eq!(ret(p.syscall(&mut mem, nr::rmdir, [SCRATCH + 0x5000, 0, 0, 0, 0, 0])), 247u32.wrapping_neg());
    // getdents64 lists the file.
    let dfd = ret(p.syscall(&mut mem, nr::open, [SCRATCH + 0x5000, 0o10000, 0, 0, 0, 0]));
    let n = ret(p.syscall(&mut mem, nr::getdents64, [dfd, SCRATCH + 0x6000, 4096, 0, 0, 0]));
    let mut names = Vec::new();
    let mut at = 0;
    while at < n {
        let reclen = u32::from(mem.read_u16(SCRATCH + 0x6000 + at + 16).unwrap());
        names.push(mem.read_cstring(SCRATCH + 0x6000 + at + 19, 255).unwrap());
        at += reclen;
    }
    names.sort();
    assert_eq!(names, vec![b".".to_vec(), b"..".to_vec(), b"file".to_vec()]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn light_weight_compare_and_swap() {
    let (mut p, mut mem) = setup(Script::default());
    mem.write_u32(SCRATCH, 5).unwrap();
    let cas = |r25, r24| LwsArgs { r26: SCRATCH, r25, r24, r23: 0 };
    assert_eq!(p.light_weight_syscall(&mut mem, 0, cas(4, 9)), LwsOutcome { r28: 5, r21: 0 });
    assert_eq!(mem.read_u32(SCRATCH), Ok(5));
    assert_eq!(p.light_weight_syscall(&mut mem, 0, cas(5, 9)), LwsOutcome { r28: 5, r21: 0 });
    assert_eq!(mem.read_u32(SCRATCH), Ok(9));
    let fault = p.light_weight_syscall(&mut mem, 0, LwsArgs { r26: 0x9000_0000, ..cas(0, 0) });
    assert_eq!(fault.r21, Errno::EFAULT.as_return());
    assert_eq!(p.light_weight_syscall(&mut mem, 7, cas(0, 0)).r21, Errno::ENOSYS.as_return());
    // CAS2 on a 16-bit value: r25 and r24 point at the old and new values.
    mem.write_u16(SCRATCH + 0x10, 0x1234).unwrap();
    mem.write_u16(SCRATCH + 0x20, 0x1234).unwrap();
    mem.write_u16(SCRATCH + 0x30, 0xbeef).unwrap();
    let cas2 = LwsArgs { r26: SCRATCH + 0x10, r25: SCRATCH + 0x20, r24: SCRATCH + 0x30, r23: 1 };
    assert_eq!(p.light_weight_syscall(&mut mem, 2, cas2), LwsOutcome { r28: 0, r21: 0 });
    assert_eq!(mem.read_u16(SCRATCH + 0x10), Ok(0xbeef));
    assert_eq!(p.light_weight_syscall(&mut mem, 2, cas2), LwsOutcome { r28: 1, r21: 0 });
}

#[test]
fn strace_lines_look_like_strace() {
    let (_, mut mem) = setup(Script::default());
    mem.write_bytes(SCRATCH, b"hello\n").unwrap();
    let line = super::strace::format_call(&mem, nr::write, &[1, SCRATCH, 6, 0, 0, 0], SyscallOutcome::Return(6));
    assert_eq!(line, "write(1, \"hello\\n\", 6) = 6");
}

#[test]
fn loads_a_prebuilt_static_guest() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../guests/prebuilt/hello_float-O2");
    let image = ElfImage::parse(&std::fs::read(path).unwrap()).unwrap();
    let mut mem = space();
    let init = load_program(&mut mem, &image, None, &[b"hello_float"], &[b"A=1"], b"hello_float").unwrap();
    assert_eq!(init.pc, image.entry | 3);
    assert!(mem.fetch(image.entry).is_ok());
    assert!(init.brk > image.segments.last().unwrap().vaddr);
    assert_eq!(word(&mem, init.gr[24] - 4), 1);
}
