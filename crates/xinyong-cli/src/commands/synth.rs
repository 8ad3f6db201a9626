//! `xinyong synth`: synthetic agency files.

use std::path::Path;

use xinyong_synth::{SynthOptions, generate};

use crate::args::Global;
use crate::context::print_json;
use crate::{CmdResult, Failure};

pub fn run(g: &Global, out: &Path, subjects: u64, seed: u64) -> CmdResult {
    let manifest = generate(&SynthOptions { out: out.to_path_buf(), subjects, seed }).map_err(Failure::failed)?;
    if g.json {
        return print_json(&manifest);
    }
    let rows: u64 = manifest.files.iter().map(|f| f.rows).sum();
    let invalid: u64 = manifest.files.iter().map(|f| f.invalid_rows).sum();
    println!("{} files, {rows} rows ({invalid} deliberately invalid) in {}", manifest.files.len(), out.display());
    for f in &manifest.files {
        println!(
            "  {:<44} {:<12} {:<26} {:<5} {:<8} {:>9} {:>6}",
            f.path, f.unit, f.item, f.format, f.encoding, f.rows, f.invalid_rows
        );
    }
    Ok(())
}
