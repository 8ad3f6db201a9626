//! Batch screening (批量核查): many identifiers in, one CSV row out per input row, in order — the subject's
//! name, the lists it is on today, the measures a scenario triggers, or why the identifier is invalid.
//!
//! Input is either one identifier per line, or a CSV whose header names an identifier column
//! (`统一社会信用代码`, `证件号码`, `身份证号码`, `identifier`, `uscc`, `id_number`). It is read and answered
//! in chunks, so memory does not grow with the input; each chunk costs two queries.

use std::collections::HashMap;
use std::io::{BufRead, Write};

use chrono::NaiveDate;
use xinyong_domain::catalog::Catalog;
use xinyong_domain::ids::{Identifier, classify};
use xinyong_domain::masking::mask_name;
use xinyong_domain::measures::Library;
use xinyong_store::Store;
use xinyong_store::joint::entry_in_force;

/// Input rows answered per round trip to the store.
const CHUNK: usize = 10_000;

const ID_COLUMNS: [&str; 6] = ["统一社会信用代码", "证件号码", "身份证号码", "identifier", "uscc", "id_number"];

#[derive(Debug, thiserror::Error)]
pub enum ScreenError {
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Store(#[from] xinyong_store::StoreError),
    #[error("writing the result: {0}")]
    Output(String),
}

/// What a screening did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ScreenSummary {
    pub rows: u64,
    pub invalid: u64,
    pub not_found: u64,
    /// Rows whose subject is on at least one list today.
    pub listed: u64,
}

struct Pending {
    input: String,
    parsed: Result<Identifier, String>,
}

/// Screens `input` and writes the result CSV to `out`. `scenario` (a purpose code) adds the measures the
/// lists trigger in it.
pub fn screen(
    store: &dyn Store,
    catalog: &Catalog,
    library: &Library,
    scenario: Option<&str>,
    today: NaiveDate,
    input: impl BufRead,
    out: impl Write,
) -> Result<ScreenSummary, ScreenError> {
    let lists: Vec<String> = catalog.lists().map(|i| i.code.clone()).collect();
    let mut writer = csv::Writer::from_writer(out);
    let out_err = |e: csv::Error| ScreenError::Output(e.to_string());
    writer.write_record(["row", "identifier", "valid", "name", "lists", "measures", "reason"]).map_err(out_err)?;
    let mut summary = ScreenSummary::default();
    let mut lines = input.lines();
    let mut column: Option<usize> = None;
    let mut row = 0u64;
    let mut chunk: Vec<Pending> = Vec::with_capacity(CHUNK);
    let mut first = true;
    loop {
        let line = match lines.next() {
            None => None,
            Some(Ok(l)) => Some(l),
            Some(Err(e)) => return Err(ScreenError::Input(format!("line {}: {e}", row + 1))),
        };
        let at_end = line.is_none();
        if let Some(line) = line {
            let line = line.trim_start_matches('\u{feff}').to_owned();
            if first {
                first = false;
                if let Some(c) = header_column(&line)? {
                    column = Some(c);
                    continue;
                }
            }
            row += 1;
            let value = match column {
                Some(c) => csv_field(&line, c),
                None => line.trim().to_owned(),
            };
            let parsed = classify(&value, today).result.map_err(|e| match e.code() {
                "empty" => "empty: no identifier on this row".to_owned(),
                code => format!("{code}: {e}"),
            });
            chunk.push(Pending { input: value, parsed });
            if chunk.len() < CHUNK {
                continue;
            }
        }
        if !chunk.is_empty() {
            let done = std::mem::take(&mut chunk);
            answer(store, library, &lists, scenario, today, row - done.len() as u64, done, &mut writer, &mut summary)?;
        }
        if at_end {
            break;
        }
    }
    writer.flush().map_err(|e| ScreenError::Output(e.to_string()))?;
    Ok(summary)
}

/// The identifier column of a CSV header line, or `None` when the line is not a header.
fn header_column(line: &str) -> Result<Option<usize>, ScreenError> {
    if !line.contains(',') {
        let plain = line.trim();
        return Ok(ID_COLUMNS.iter().any(|c| c.eq_ignore_ascii_case(plain)).then_some(0));
    }
    let cells: Vec<String> = split_csv(line);
    match cells.iter().position(|c| ID_COLUMNS.iter().any(|n| n.eq_ignore_ascii_case(c.trim()))) {
        Some(i) => Ok(Some(i)),
        None => Err(ScreenError::Input(format!(
            "row 1: a CSV needs an identifier column (one of {}); found {}",
            ID_COLUMNS.join(", "),
            cells.join(", ")
        ))),
    }
}

fn split_csv(line: &str) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(line.as_bytes());
    reader.records().next().and_then(Result::ok).map(|r| r.iter().map(str::to_owned).collect()).unwrap_or_default()
}

fn csv_field(line: &str, column: usize) -> String {
    split_csv(line).get(column).map(|s| s.trim().to_owned()).unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
fn answer(
    store: &dyn Store,
    library: &Library,
    lists: &[String],
    scenario: Option<&str>,
    today: NaiveDate,
    first_row: u64,
    chunk: Vec<Pending>,
    writer: &mut csv::Writer<impl Write>,
    summary: &mut ScreenSummary,
) -> Result<(), ScreenError> {
    let ids: Vec<Identifier> = chunk.iter().filter_map(|p| p.parsed.as_ref().ok().cloned()).collect();
    let subjects = store.subjects_by_identifiers(&ids)?;
    let subject_ids: Vec<i64> = subjects.iter().flatten().map(|s| s.id).collect();
    let mut on_lists: HashMap<i64, Vec<String>> = HashMap::new();
    for entry in store.records_of_items(&subject_ids, lists)? {
        if let Some(sid) = entry.subject_id
            && entry_in_force(&entry, today)
        {
            let l = on_lists.entry(sid).or_default();
            if !l.contains(&entry.item) {
                l.push(entry.item);
            }
        }
    }
    let mut found = subjects.into_iter();
    let out_err = |e: csv::Error| ScreenError::Output(e.to_string());
    for (i, p) in chunk.into_iter().enumerate() {
        let row = (first_row + i as u64 + 1).to_string();
        summary.rows += 1;
        let id = match p.parsed {
            Err(reason) => {
                summary.invalid += 1;
                writer.write_record([row.as_str(), &p.input, "false", "", "", "", &reason]).map_err(out_err)?;
                continue;
            }
            Ok(id) => id,
        };
        let Some(subject) = found.next().flatten() else {
            summary.not_found += 1;
            writer
                .write_record([row.as_str(), id.as_str(), "true", "", "", "", "not_found: no subject on file"])
                .map_err(out_err)?;
            continue;
        };
        let hit = on_lists.get(&subject.id).cloned().unwrap_or_default();
        if !hit.is_empty() {
            summary.listed += 1;
        }
        let measures = match scenario {
            Some(s) if !hit.is_empty() => {
                let refs: Vec<&str> = hit.iter().map(String::as_str).collect();
                library.for_scenario(&refs, s).into_iter().map(|(m, _)| m.id.clone()).collect::<Vec<_>>().join(";")
            }
            _ => String::new(),
        };
        // The caller knows the identifier; a natural person's name is still personal data: masked.
        let name = match id {
            Identifier::ResidentId(_) => mask_name(&subject.name),
            _ => subject.name,
        };
        writer
            .write_record([row.as_str(), id.as_str(), "true", &name, &hit.join(";"), &measures, ""])
            .map_err(out_err)?;
    }
    Ok(())
}
