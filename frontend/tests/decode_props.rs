//! Property tests: decoding and disassembly are total over all 32-bit words.

use hbft_frontend::{decode, disassemble_word, AddressPrinter};
use proptest::prelude::*;

struct Hex;

impl AddressPrinter for Hex {
    fn print_address(&self, addr: u32, out: &mut String) {
        out.push_str(&format!("{addr:x}"));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]

    /// Any word decodes or is refused, and prints, without panicking; words
    /// the decoder refuses are exactly those printed as `#xxxxxxxx`.
    #[test]
    fn decode_and_print_are_total(word in any::<u32>(), pc in any::<u32>()) {
        let decoded = decode(word);
        let mut text = String::new();
        disassemble_word(word, pc & !3, &Hex, &mut text);
        prop_assert!(!text.is_empty());
        prop_assert_eq!(decoded.is_err(), text.starts_with('#'), "{:08x}: {}", word, text);
    }

    /// Decoding is a pure function of the word.
    #[test]
    fn decode_is_deterministic(word in any::<u32>()) {
        prop_assert_eq!(decode(word), decode(word));
    }
}
