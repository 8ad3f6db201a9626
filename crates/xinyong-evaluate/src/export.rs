//! Exports of an inspection plan (抽查名单): CSV (UTF-8 with BOM, so spreadsheet programs read the
//! Chinese headers) and XLSX (the list, and a sheet with the plan: population, ratios, seed, algorithm,
//! model, counts). Rows carry what the caller resolved of each subject, already masked.

use rust_xlsxwriter::{Format, Workbook};

use crate::supervision::Plan;

/// One drawn subject as exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub subject: i64,
    pub name: String,
    /// USCC or masked resident ID.
    pub identifier: String,
    pub grade: String,
    pub score: Option<i32>,
}

#[derive(Debug, thiserror::Error)]
#[error("export: {0}")]
pub struct ExportError(String);

const HEADERS: [&str; 8] =
    ["序号", "主体ID", "名称", "统一社会信用代码/证件号码", "信用等级", "评分", "抽查计划", "随机种子"];

pub fn csv(plan: &Plan, rows: &[Row]) -> Result<Vec<u8>, ExportError> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(HEADERS).map_err(|e| ExportError(e.to_string()))?;
        for (i, r) in rows.iter().enumerate() {
            let fields = [
                (i + 1).to_string(),
                r.subject.to_string(),
                r.name.clone(),
                r.identifier.clone(),
                r.grade.clone(),
                r.score.map(|s| s.to_string()).unwrap_or_default(),
                plan.name.clone(),
                plan.seed.clone(),
            ];
            w.write_record(&fields).map_err(|e| ExportError(e.to_string()))?;
        }
        w.flush().map_err(|e| ExportError(e.to_string()))?;
    }
    Ok(out)
}

pub fn xlsx(plan: &Plan, rows: &[Row]) -> Result<Vec<u8>, ExportError> {
    let x = |e: rust_xlsxwriter::XlsxError| ExportError(e.to_string());
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let list = book.add_worksheet().set_name("抽查名单").map_err(x)?;
    for (c, h) in HEADERS.iter().enumerate() {
        list.write_string_with_format(0, c as u16, *h, &bold).map_err(x)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = (i + 1) as u32;
        list.write_number(row, 0, (i + 1) as f64).map_err(x)?;
        list.write_number(row, 1, r.subject as f64).map_err(x)?;
        list.write_string(row, 2, &r.name).map_err(x)?;
        list.write_string(row, 3, &r.identifier).map_err(x)?;
        list.write_string(row, 4, &r.grade).map_err(x)?;
        if let Some(s) = r.score {
            list.write_number(row, 5, f64::from(s)).map_err(x)?;
        }
        list.write_string(row, 6, &plan.name).map_err(x)?;
        list.write_string(row, 7, &plan.seed).map_err(x)?;
    }
    let meta = book.add_worksheet().set_name("抽查计划").map_err(x)?;
    let population = serde_json::to_string(&plan.population).map_err(|e| ExportError(e.to_string()))?;
    let ratios = serde_json::to_string(&plan.ratios).map_err(|e| ExportError(e.to_string()))?;
    let by_grade = serde_json::to_string(&plan.population_by_grade).map_err(|e| ExportError(e.to_string()))?;
    let drawn = serde_json::to_string(&plan.drawn_by_grade).map_err(|e| ExportError(e.to_string()))?;
    let lines: [(&str, &str); 8] = [
        ("计划名称 name", &plan.name),
        ("抽查对象 population", &population),
        ("各等级抽查比例 ratios", &ratios),
        ("随机种子 seed", &plan.seed),
        ("抽取算法 algorithm", &plan.algorithm),
        ("评价模型 model", &plan.model),
        ("各等级主体数 population by grade", &by_grade),
        ("各等级抽取数 drawn by grade", &drawn),
    ];
    for (i, (k, v)) in lines.iter().enumerate() {
        meta.write_string_with_format(i as u32, 0, *k, &bold).map_err(x)?;
        meta.write_string(i as u32, 1, *v).map_err(x)?;
    }
    book.save_to_buffer().map_err(x)
}
