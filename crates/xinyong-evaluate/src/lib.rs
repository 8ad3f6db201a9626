//! Public credit comprehensive evaluation (公共信用综合评价) and graded supervision (分级分类监管),
//! DOMAIN.md §7.
//!
//! - [`model`]: evaluation models as versioned data (TOML), checked with line-numbered errors.
//! - [`score`]: one subject's score, grade and explanation (pure).
//! - [`run`]: full and incremental recomputes over a store, keeping only what changed.
//! - [`supervision`]: inspection plans drawn per grade from a recorded seed (pure, reproducible).
//!
//! ```
//! use xinyong_evaluate::model::Model;
//! let model = Model::default_model().unwrap_or_else(|e| panic!("{e}"));
//! assert_eq!(model.grade_of(500).grade, "C");
//! ```

pub mod export;
pub mod model;
pub mod run;
pub mod score;
pub mod supervision;
