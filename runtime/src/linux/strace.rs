//! strace-style formatting of a finished system call:
//! `write(1, "hello\n", 6) = 6`.

use hbft_translator::memory::GuestMemory;

use super::numbers::{self, nr};
use super::process::SyscallOutcome;
use crate::memory::AddressSpace;

/// How to show one argument.
#[derive(Clone, Copy)]
enum Arg {
    Int,
    Hex,
    Path,
    /// A buffer whose length is argument `n`.
    Buf(usize),
    /// An output buffer whose length is the return value.
    OutBuf,
}

fn signature(n: u32) -> &'static [Arg] {
    use Arg::*;
    match n {
        nr::read | nr::pread64 => &[Int, OutBuf, Int],
        nr::write | nr::pwrite64 => &[Int, Buf(2), Int],
        nr::open => &[Path, Hex, Hex],
        nr::openat => &[Int, Path, Hex, Hex],
        nr::stat64 | nr::lstat64 | nr::access | nr::unlink | nr::mkdir | nr::rmdir | nr::readlink => {
            &[Path, Hex, Int]
        }
        nr::fstatat64 | nr::statx | nr::faccessat | nr::unlinkat | nr::mkdirat | nr::readlinkat => {
            &[Int, Path, Hex, Hex]
        }
        nr::close | nr::exit | nr::exit_group | nr::dup | nr::dup2 | nr::fstat64 => &[Int, Hex],
        nr::brk | nr::munmap | nr::mprotect | nr::mmap | nr::mmap2 => &[Hex, Hex, Hex, Hex, Int, Hex],
        _ => &[Hex, Hex, Hex, Hex, Hex, Hex],
    }
}

fn quoted(bytes: &[u8]) -> String {
    const SHOWN: usize = 32;
    let mut s = String::from("\"");
    for &b in bytes.iter().take(SHOWN) {
        match b {
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\{b:o}")),
        }
    }
    s.push('"');
    if bytes.len() > SHOWN {
        s.push_str("...");
    }
    s
}

fn buffer(mem: &AddressSpace, addr: u32, len: u32) -> String {
    let mut buf = vec![0u8; len.min(64) as usize];
    match mem.read_bytes(addr, &mut buf) {
        Ok(()) if len as usize > buf.len() => format!("{}...", quoted(&buf)),
        Ok(()) => quoted(&buf),
        Err(_) => format!("{addr:#x}"),
    }
}

pub fn format_call(mem: &AddressSpace, n: u32, args: &[u32; 6], outcome: SyscallOutcome) -> String {
    let name = numbers::name(n).unwrap_or("syscall");
    let sig = signature(n);
    let ret = match outcome {
        SyscallOutcome::Return(v) => v,
        SyscallOutcome::Exit(_) | SyscallOutcome::Signal(_) | SyscallOutcome::Sigreturn | SyscallOutcome::Suspend(_) => 0,
    };
    let shown: Vec<String> = sig
        .iter()
        .zip(args)
        .map(|(kind, &value)| match *kind {
            Arg::Int => (value as i32).to_string(),
            Arg::Hex => format!("{value:#x}"),
            Arg::Path => match mem.read_cstring(value, 4096) {
                Ok(path) => quoted(&path),
                Err(_) => format!("{value:#x}"),
            },
            Arg::Buf(len) => buffer(mem, value, args[len]),
            Arg::OutBuf if (ret as i32) >= 0 => buffer(mem, value, ret),
            Arg::OutBuf => format!("{value:#x}"),
        })
        .collect();
    let result = match outcome {
        SyscallOutcome::Return(v) if (v as i32) < 0 && (v as i32) > -4096 => {
            format!("-1 (errno {})", (v as i32).unsigned_abs())
        }
        SyscallOutcome::Return(v) if matches!(sig.first(), Some(Arg::Hex)) => format!("{v:#x}"),
        SyscallOutcome::Return(v) => (v as i32).to_string(),
        SyscallOutcome::Exit(status) => format!("? (exit {status})"),
        SyscallOutcome::Signal(sig) => format!("0 (signal {sig})"),
        SyscallOutcome::Sigreturn => "? (sigreturn)".to_string(),
        SyscallOutcome::Suspend(_) => "? (waiting for a signal)".to_string(),
    };
    format!("{name}({}) = {result}", shown.join(", "))
}
