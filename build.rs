//! Writes the o200k vocabulary (each token's bytes, in rank order) to OUT_DIR for
//! `tokens.rs`. bpe-openai is only a build dependency: loaded at run time it costs some
//! 70 MB of memory and 30 MB of binary for search structures that counting does not need.

use std::io::Write;

fn main() {
    let bpe = &bpe_openai::o200k_base().bpe;
    let count = u32::try_from(bpe.num_tokens()).expect("fewer than 2^32 tokens");
    let mut starts = Vec::with_capacity(count as usize + 1);
    let mut bytes = Vec::new();
    for id in 0..count {
        starts.push(u32::try_from(bytes.len()).expect("under 4 GB of tokens"));
        bytes.extend_from_slice(bpe.token_bytes(id));
    }
    starts.push(u32::try_from(bytes.len()).expect("under 4 GB of tokens"));
    // Layout: token count, then count + 1 start offsets, then the bytes; little-endian u32s.
    let mut out = Vec::with_capacity(4 * starts.len() + 4 + bytes.len());
    out.extend_from_slice(&count.to_le_bytes());
    for start in &starts {
        out.extend_from_slice(&start.to_le_bytes());
    }
    out.extend_from_slice(&bytes);
    let path = std::path::Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("o200k_tokens.bin");
    std::fs::File::create(&path)
        .and_then(|mut file| file.write_all(&out))
        .unwrap_or_else(|error| panic!("could not write {}: {error}", path.display()));
    println!("cargo::rerun-if-changed=build.rs");
}
