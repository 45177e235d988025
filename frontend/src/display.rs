//! objdump-compatible instruction text (placeholder until the decoder lands).
/// Prints a branch target the way objdump does: `hex <symbol+0xoff>`.
pub trait AddressPrinter {
    fn print_address(&self, addr: u32, out: &mut String);
}
/// Appends objdump's text for `word` at `pc` (mnemonic and operands).
pub fn disassemble_word(word: u32, _pc: u32, _addrs: &dyn AddressPrinter, out: &mut String) {
    out.push_str(&format!("#{word:8x}"));
}
