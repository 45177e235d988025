//! The ELF loader never panics, whatever the bytes.

use hbft_frontend::elf::ElfImage;
use proptest::prelude::*;

/// A real guest if the prebuilt ones are present, to mutate realistically.
fn sample_executable() -> Option<Vec<u8>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../guests/prebuilt");
    let mut entries: Vec<_> = std::fs::read_dir(dir).ok()?.flatten().map(|e| e.path()).collect();
    entries.sort();
    entries.into_iter().find_map(|p| {
        let bytes = std::fs::read(&p).ok()?;
        bytes.starts_with(b"\x7fELF").then_some(bytes)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = ElfImage::parse(&bytes);
    }

    #[test]
    fn elf_prefixed_bytes_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut bytes = b"\x7fELF\x01\x02\x01".to_vec();
        bytes.extend(tail);
        let _ = ElfImage::parse(&bytes);
    }

    #[test]
    fn mutated_executables_never_panic(
        edits in proptest::collection::vec((0usize..4096, any::<u8>()), 1..16),
        cut in any::<prop::sample::Index>(),
    ) {
        let Some(mut bytes) = sample_executable() else { return Ok(()) };
        for (at, value) in edits {
            let at = at % bytes.len();
            bytes[at] = value;
        }
        let _ = ElfImage::parse(&bytes);
        let len = cut.index(bytes.len());
        let _ = ElfImage::parse(&bytes[..len]);
    }
}
