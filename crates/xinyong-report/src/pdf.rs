//! The PDF format: typst lays out `templates/report.typ` over the report's JSON, with a CJK font read
//! from the system (typst embeds only the glyphs used: a subset). One [`PdfEngine`] per process: font
//! parsing happens once, in [`PdfEngine::load`].
//!
//! Fonts, first found wins: the folder in `XINYONG_FONT_DIR` (every `.ttc`/`.otf`/`.ttf` in it), Debian's
//! `fonts-noto-cjk` (Noto Sans CJK SC, regular and bold), then `fonts-wqy-microhei`. With none, PDF
//! reports are unavailable with a clear error; HTML and JSON still work.

use std::path::{Path, PathBuf};

use typst::foundations::{Dict, IntoValue, Smart};
use typst_as_lib::{TypstEngine, TypstTemplateMainFile};
use typst_layout::PagedDocument;

use crate::model::Report;

const TEMPLATE: &str = include_str!("../templates/report.typ");

/// Environment variable naming a folder of CJK fonts to use instead of the system's.
pub const FONT_DIR_ENV: &str = "XINYONG_FONT_DIR";

/// Font files of the Debian packages we know, in order of preference.
const SYSTEM_FONTS: [&[&str]; 2] = [
    &["/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"],
    &["/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"],
];

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error(
        "no CJK font found for PDF reports: install fonts-noto-cjk (or fonts-wqy-microhei), or set {FONT_DIR_ENV} to a folder of CJK fonts"
    )]
    NoFont,
    #[error("cannot read font {path}: {message}")]
    Font { path: String, message: String },
    #[error("laying out the PDF: {0}")]
    Layout(String),
}

pub struct PdfEngine {
    engine: TypstEngine<TypstTemplateMainFile>,
    fonts: Vec<PathBuf>,
}

impl std::fmt::Debug for PdfEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PdfEngine").field("fonts", &self.fonts).finish_non_exhaustive()
    }
}

/// The font files to load: from `dir` when given, else the system's.
pub fn find_fonts(dir: Option<&Path>) -> Result<Vec<PathBuf>, PdfError> {
    if let Some(dir) = dir {
        let read = std::fs::read_dir(dir)
            .map_err(|e| PdfError::Font { path: dir.display().to_string(), message: e.to_string() })?;
        let mut files: Vec<PathBuf> = read
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().and_then(|x| x.to_str()).is_some_and(|x| {
                    let x = x.to_ascii_lowercase();
                    x == "ttc" || x == "otf" || x == "ttf"
                })
            })
            .collect();
        files.sort();
        return if files.is_empty() { Err(PdfError::NoFont) } else { Ok(files) };
    }
    for set in SYSTEM_FONTS {
        let present: Vec<PathBuf> = set.iter().map(PathBuf::from).filter(|p| p.is_file()).collect();
        if !present.is_empty() {
            return Ok(present);
        }
    }
    Err(PdfError::NoFont)
}

impl PdfEngine {
    /// Loads the fonts (`dir`, else `XINYONG_FONT_DIR`, else the system's) and the template.
    pub fn load(dir: Option<&Path>) -> Result<PdfEngine, PdfError> {
        let env_dir = std::env::var_os(FONT_DIR_ENV).filter(|v| !v.is_empty()).map(PathBuf::from);
        let fonts = find_fonts(dir.or(env_dir.as_deref()))?;
        let mut data = Vec::with_capacity(fonts.len());
        for path in &fonts {
            let bytes = std::fs::read(path)
                .map_err(|e| PdfError::Font { path: path.display().to_string(), message: e.to_string() })?;
            data.push(bytes);
        }
        let engine = TypstEngine::builder().main_file(TEMPLATE).fonts(data).build();
        Ok(PdfEngine { engine, fonts })
    }

    /// The font files in use.
    pub fn fonts(&self) -> &[PathBuf] {
        &self.fonts
    }

    /// Lays out the report as an A4 PDF (unsigned; see [`crate::sign`]).
    pub fn render(&self, report: &Report, qr_svg: &str) -> Result<Vec<u8>, PdfError> {
        let json = report.canonical_json().map_err(|e| PdfError::Layout(e.to_string()))?;
        let mut inputs = Dict::new();
        inputs.insert("report".into(), json.into_value());
        inputs.insert("qr".into(), qr_svg.to_owned().into_value());
        let compiled = self.engine.compile_with_input::<_, PagedDocument>(inputs);
        let doc = compiled.output.map_err(|e| PdfError::Layout(format!("{e:?}")))?;
        let options = typst_pdf::PdfOptions {
            ident: Smart::Custom(report.number.clone()),
            creator: Smart::Custom(Some("xinyong".to_owned())),
            ..Default::default()
        };
        typst_pdf::pdf(&doc, &options).map_err(|e| PdfError::Layout(format!("{e:?}")))
    }
}
