//! `hbft dump`: a record/replay log in human-readable form, one line per
//! entry with its file offset and epoch — the first thing to read when a
//! replay diverges.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use hbft_replication::log::LogReader;
use hbft_runtime::journal::{EnvRecord, Entry};

use crate::replay::hex;

#[derive(clap::Args)]
pub struct DumpArgs {
    /// The log to list.
    #[arg(long, value_name = "FILE")]
    log: PathBuf,
}

/// Bytes of data shown per entry.
const SHOWN_BYTES: usize = 48;

pub fn dump(args: DumpArgs) -> anyhow::Result<ExitCode> {
    let (header, mut reader) = LogReader::open(&args.log)?;
    let quoted = |v: &[Vec<u8>]| v.iter().map(|a| format!("{:?}", String::from_utf8_lossy(a))).collect::<Vec<_>>();
    println!("log {} (format {})", args.log.display(), hbft_replication::log::VERSION);
    println!("program  {}", String::from_utf8_lossy(&header.program));
    println!("sha256   {}", hex(&header.binary_sha256));
    println!("argv     {}", quoted(&header.argv).join(" "));
    println!("envp     {} strings", header.envp.len());
    println!("epoch    {} instructions (recorded with {})", header.epoch_len, header.engine);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    while let Some((offset, entry)) = {
        let epoch = reader.epoch();
        reader.next_with_offset()?.map(|(o, e)| ((o, epoch), e))
    } {
        use std::io::Write;
        let (offset, epoch) = offset;
        let line = match entry {
            Entry::Env(record) => format!("env      {}", env_line(&record)),
            Entry::EpochEnd(end) => format!(
                "END      epoch {} at {} instructions, state {:016x}, interrupts {:?}",
                end.epoch, end.retired, end.state_hash, end.interrupts
            ),
            Entry::RunEnd(end) => format!(
                "EXIT     status {} at {} instructions, state {:016x}",
                end.exit_status, end.retired, end.state_hash
            ),
        };
        // A closed stdout (dump | head) ends the listing quietly.
        if writeln!(out, "@{offset:<10} epoch {epoch:<6} {line}").is_err() {
            break;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One environment result: the call and its value, long data abbreviated.
fn env_line(record: &EnvRecord) -> String {
    let mut line = format!("{:<16} ", record.call());
    let bytes = |line: &mut String, data: &[u8]| {
        let shown = &data[..data.len().min(SHOWN_BYTES)];
        let more = if data.len() > SHOWN_BYTES { "…" } else { "" };
        let _ = write!(line, "{} bytes {:?}{more}", data.len(), String::from_utf8_lossy(shown));
    };
    match record {
        EnvRecord::Read(Ok(data)) | EnvRecord::Pread(Ok(data)) | EnvRecord::Readlinkat(Ok(data)) | EnvRecord::Getcwd(Ok(data)) => {
            bytes(&mut line, data)
        }
        EnvRecord::RandomBytes(data) => {
            let _ = write!(line, "{} bytes {}", data.len(), hex(&data[..data.len().min(SHOWN_BYTES / 2)]));
        }
        EnvRecord::Getdents(Ok(entries)) => {
            let names: Vec<_> = entries.iter().map(|e| String::from_utf8_lossy(&e.name).into_owned()).collect();
            let _ = write!(line, "{} entries {:?}", entries.len(), names);
        }
        EnvRecord::DeviceRead { addr, value } => {
            let _ = write!(line, "register {addr:#010x} = {value:#x}");
        }
        EnvRecord::DiskDone { status, data } => {
            let _ = write!(line, "status {status}, ");
            bytes(&mut line, data);
        }
        other => {
            let text = format!("{other:?}");
            // Drop the variant name already shown: `Write(Ok(5))` -> `Ok(5)`.
            let value = text.split_once('(').map_or("", |(_, v)| v.strip_suffix(')').unwrap_or(v));
            line.push_str(value);
        }
    }
    line
}
