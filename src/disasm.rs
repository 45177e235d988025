//! `hbft disasm`: an objdump-compatible listing.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

pub fn disasm(prog: &Path) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(prog).with_context(|| format!("cannot read {}", prog.display()))?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let name = prog.to_string_lossy();
    match hbft_frontend::listing::write_listing(&name, &bytes, &mut out) {
        Ok(()) => {}
        // A closed pipe (`hbft disasm x | head`) is a normal way to stop.
        Err(hbft_frontend::listing::ListingError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            return Ok(ExitCode::SUCCESS)
        }
        Err(e) => return Err(e).with_context(|| prog.display().to_string()),
    }
    match out.flush() {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other?,
    }
    Ok(ExitCode::SUCCESS)
}
