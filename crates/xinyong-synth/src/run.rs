//! One run of the generator: check the plan against the catalog, split the files over threads, stream
//! every subject's records into the files of each thread, then write the manifest.
//!
//! Each thread walks all subjects in order (deriving a subject is cheap) and writes only the records of
//! its own files; since every record has its own random stream and every file its own counters, a
//! file's bytes do not depend on the number of threads. Memory per thread: one subject, one record,
//! the file buffers, and the XLSX worksheets (kept small).

use std::path::Path;
use std::thread;

use xinyong_domain::catalog::Catalog;

use crate::faults::{Fault, FaultPicker};
use crate::layout::{Layout, Record};
use crate::manifest::{Manifest, ManifestFile};
use crate::plan::{Encoding, FILES, FileDef, Format, ItemKind, Planner};
use crate::rng::{record_rng, subject_rng};
use crate::rows::{self, Authorities, RowCtx};
use crate::subjects::{IdSpaces, MAX_SUBJECTS, Subject};
use crate::units::{UnitInfo, unit_info};
use crate::writers::{Sink, XLSX_MAX_ROWS};
use crate::{SynthError, SynthOptions};

/// What a run wrote: the manifest, and per file how often each fault occurred (for tests).
#[derive(Debug)]
pub(crate) struct Outcome {
    pub manifest: Manifest,
    #[cfg_attr(not(test), allow(dead_code))]
    pub faults: Vec<[u64; Fault::ALL.len()]>,
}

/// Everything about one file that does not change while rows are written.
#[derive(Debug)]
struct FileSetup {
    def: &'static FileDef,
    layout: Layout,
    unit: &'static UnitInfo,
    authorities: Authorities,
}

impl FileSetup {
    fn new(catalog: &Catalog, def: &'static FileDef) -> Result<FileSetup, SynthError> {
        let item = def.item.code();
        let (unit_no, unit) = catalog
            .units
            .iter()
            .enumerate()
            .find(|(_, u)| u.code == def.unit)
            .ok_or_else(|| SynthError::Catalog(format!("unit {} is not in the default catalog", def.unit)))?;
        if !unit.supplies.iter().any(|s| s == item) {
            return Err(SynthError::Catalog(format!("unit {} does not supply {item}", def.unit)));
        }
        let info = unit_info(def.unit).ok_or_else(|| SynthError::Catalog(format!("no texts for unit {}", def.unit)))?;
        let layout = Layout::new(catalog, item, def.headers)?;
        let authorities = Authorities::new(info, &unit.name, unit_no)?;
        Ok(FileSetup { def, layout, unit: info, authorities })
    }
}

/// An open file and its counters.
struct FileState<'a> {
    setup: &'a FileSetup,
    sink: Sink,
    picker: FaultPicker,
    rows: u64,
    invalid: u64,
    faults: [u64; Fault::ALL.len()],
}

impl<'a> FileState<'a> {
    fn open(dir: &Path, setup: &'a FileSetup) -> Result<FileState<'a>, SynthError> {
        Ok(FileState {
            sink: Sink::open(dir, setup.def, &setup.layout)?,
            picker: FaultPicker::new(setup.def, &setup.layout),
            setup,
            rows: 0,
            invalid: 0,
            faults: [0; Fault::ALL.len()],
        })
    }

    fn emit(&mut self, subject: &Subject, seed: u64, rec: &mut Record) -> Result<(), SynthError> {
        let setup = self.setup;
        if setup.def.format == Format::Xlsx && self.rows >= XLSX_MAX_ROWS {
            // Records have their own random streams: dropping one changes no other row.
            return Ok(());
        }
        let ctx = RowCtx { def: setup.def, unit: setup.unit, authorities: &setup.authorities };
        let mut rng = record_rng(seed);
        rows::build(&ctx, subject, self.rows + 1, &mut rng, rec);
        if let Some(fault) = self.picker.choose(self.rows, subject, &mut rng) {
            fault.inject(setup.def, subject, &mut rng, rec)?;
            self.invalid += 1;
            self.faults[fault as usize] += 1;
        }
        self.sink.write(&setup.layout, rec)?;
        self.rows += 1;
        Ok(())
    }
}

/// Counts of one file after its thread finished: index, rows, invalid rows, faults.
type FileCounts = (usize, u64, u64, [u64; Fault::ALL.len()]);

/// Writes the files of `group` for all subjects.
fn write_group(
    opts: &SynthOptions,
    setups: &[FileSetup],
    group: &[usize],
    planner: &Planner,
    spaces: &IdSpaces,
) -> Result<Vec<FileCounts>, SynthError> {
    let mut states: Vec<Option<FileState<'_>>> = setups.iter().map(|_| None).collect();
    for &f in group {
        states[f] = Some(FileState::open(&opts.out, &setups[f])?);
    }
    let mut subject = Subject::default();
    let mut planned = Vec::new();
    let mut rec = Record::new();
    for index in 0..opts.subjects {
        let mut rng = subject_rng(opts.seed, index);
        subject.fill(spaces, index, &mut rng)?;
        planner.plan(&subject, &mut rng, &mut planned);
        for p in &planned {
            if let Some(state) = states[p.file].as_mut() {
                state.emit(&subject, p.seed, &mut rec)?;
            }
        }
    }
    let mut counts = Vec::with_capacity(group.len());
    for (f, state) in states.into_iter().enumerate() {
        if let Some(s) = state {
            counts.push((f, s.rows, s.invalid, s.faults));
            s.sink.finish()?;
        }
    }
    Ok(counts)
}

/// Relative cost of writing one row of `def` (measured: a GB18030 row costs about twice a UTF-8 one,
/// an XLSX row about fifteen times).
fn row_cost(def: &FileDef) -> f64 {
    let item = match def.item {
        ItemKind::Registration => 0.9,
        ItemKind::License => 1.5,
        ItemKind::Penalty => 2.1,
        ItemKind::List(_) => 1.0,
    };
    let format = match (def.format, def.encoding) {
        (Format::Xlsx, _) => 15.0,
        (_, Encoding::Gb18030) => 2.0,
        (Format::Jsonl, _) => 1.1,
        _ => 1.0,
    };
    item * format
}

/// Splits the files into `n` groups of about equal work (largest first, each to the lightest group).
fn balance(planner: &Planner, n: usize) -> Vec<Vec<usize>> {
    let cost = |f: usize| planner.expected_rows(f) * row_cost(&FILES[f]);
    let mut order: Vec<usize> = (0..FILES.len()).collect();
    order.sort_by(|a, b| cost(*b).total_cmp(&cost(*a)).then(a.cmp(b)));
    let mut groups: Vec<(f64, Vec<usize>)> = vec![(0.0, Vec::new()); n.clamp(1, FILES.len())];
    for f in order {
        if let Some(g) = groups.iter_mut().min_by(|a, b| a.0.total_cmp(&b.0)) {
            g.0 += cost(f);
            g.1.push(f);
        }
    }
    groups.into_iter().map(|(_, g)| g).filter(|g| !g.is_empty()).collect()
}

pub(crate) fn run(opts: &SynthOptions) -> Result<Outcome, SynthError> {
    run_with_threads(opts, thread::available_parallelism().map_or(1, |n| n.get()).min(8))
}

/// A run on `threads` threads; the bytes written do not depend on `threads`.
fn run_with_threads(opts: &SynthOptions, threads: usize) -> Result<Outcome, SynthError> {
    if opts.subjects > MAX_SUBJECTS {
        return Err(SynthError::TooManySubjects { max: MAX_SUBJECTS });
    }
    std::fs::create_dir_all(&opts.out).map_err(|e| crate::writers::io_error(&opts.out, e))?;
    let catalog = Catalog::default_catalog().map_err(|e| SynthError::Catalog(e.to_string()))?;
    let setups = FILES.iter().map(|def| FileSetup::new(&catalog, def)).collect::<Result<Vec<_>, _>>()?;
    let planner = Planner::new(FILES);
    let spaces = IdSpaces::new(opts.seed);
    let groups = balance(&planner, threads);
    let results: Vec<Result<Vec<FileCounts>, SynthError>> = thread::scope(|scope| {
        let handles: Vec<_> =
            groups.iter().map(|group| scope.spawn(|| write_group(opts, &setups, group, &planner, &spaces))).collect();
        handles.into_iter().map(|h| h.join().unwrap_or(Err(SynthError::Thread))).collect()
    });
    let mut counts = vec![(0, 0, [0; Fault::ALL.len()]); FILES.len()];
    for result in results {
        for (f, rows, invalid, faults) in result? {
            counts[f] = (rows, invalid, faults);
        }
    }
    let files =
        FILES.iter().zip(&counts).map(|(def, (rows, invalid, _))| ManifestFile::new(def, *rows, *invalid)).collect();
    let manifest = Manifest { seed: opts.seed, subjects: opts.subjects, files };
    manifest.write(&opts.out)?;
    Ok(Outcome { manifest, faults: counts.into_iter().map(|c| c.2).collect() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .map(|e| {
                        (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap_or_default())
                    })
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
    }

    #[test]
    fn the_bytes_do_not_depend_on_the_number_of_threads() -> Result<(), SynthError> {
        let dir = tempfile::tempdir().map_err(|e| crate::writers::io_error(Path::new("tmp"), e))?;
        let (one, three) = (dir.path().join("one"), dir.path().join("three"));
        run_with_threads(&SynthOptions { out: one.clone(), subjects: 1_500, seed: 5 }, 1)?;
        run_with_threads(&SynthOptions { out: three.clone(), subjects: 1_500, seed: 5 }, 3)?;
        let (a, b) = (read_all(&one), read_all(&three));
        assert_eq!(a.len(), FILES.len() + 1);
        for ((name_a, bytes_a), (name_b, bytes_b)) in a.iter().zip(&b) {
            assert_eq!(name_a, name_b);
            assert!(bytes_a == bytes_b, "{name_a} differs between 1 and 3 threads");
        }
        Ok(())
    }

    #[test]
    fn an_xlsx_file_stops_at_its_row_limit() -> Result<(), SynthError> {
        let dir = tempfile::tempdir().map_err(|e| crate::writers::io_error(Path::new("tmp"), e))?;
        let catalog = Catalog::default_catalog().map_err(|e| SynthError::Catalog(e.to_string()))?;
        let Some(def) = FILES.iter().find(|d| d.format == Format::Xlsx) else {
            return Ok(());
        };
        let setup = FileSetup::new(&catalog, def)?;
        let mut state = FileState::open(dir.path(), &setup)?;
        let mut subject = Subject::default();
        let spaces = IdSpaces::new(1);
        subject.fill(&spaces, 0, &mut subject_rng(1, 0))?;
        let mut rec = Record::new();
        state.emit(&subject, 1, &mut rec)?;
        assert_eq!(state.rows, 1);
        state.rows = XLSX_MAX_ROWS;
        state.emit(&subject, 2, &mut rec)?;
        assert_eq!(state.rows, XLSX_MAX_ROWS);
        Ok(())
    }

    #[test]
    fn groups_cover_every_file_once() {
        let planner = Planner::new(FILES);
        for n in [1, 2, 3, 8, 100] {
            let mut all: Vec<usize> = balance(&planner, n).into_iter().flatten().collect();
            all.sort_unstable();
            assert_eq!(all, (0..FILES.len()).collect::<Vec<_>>(), "{n} groups");
        }
    }
}
