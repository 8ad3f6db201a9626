//! Graded supervision (分级分类监管): an inspection plan draws, per grade, a share of a population at
//! random (双随机) from a recorded seed, so that anyone holding the plan can redo the draw and get the
//! same subjects.
//!
//! The draw, exactly (so it can be reimplemented elsewhere): grades in ascending text order (A, B, C,
//! D …); for each grade, its subjects' ids in ascending order, `n` of them, of which
//! `k = ceil(ratio × n)` are drawn by a partial Fisher–Yates shuffle driven by one ChaCha8 stream
//! (`rand_chacha::ChaCha8Rng::seed_from_u64(seed)`, shared by all grades in that order): for
//! `i in 0..k`, `j = i + uniform(n − i)` and the ids at `i` and `j` swap; the first `k` ids are the
//! grade's sample, reported in ascending order. `uniform(m)` takes the next `u64` and rejects values
//! at or above `2^64 − (2^64 mod m)`, then answers the value mod `m`.

use std::collections::BTreeMap;

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use xinyong_store::evaluation::Population;

/// The name of the draw algorithm, kept with every plan.
pub const ALGORITHM: &str = "chacha8-seed_from_u64/partial-fisher-yates/grades-ascending/v1";

/// A plan as filed: whom, how much of each grade, from which seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanRequest {
    pub name: String,
    pub population: Population,
    /// Share of each grade to draw (0–1); grades left out are not drawn.
    pub ratios: BTreeMap<String, f64>,
    pub seed: u64,
}

/// One subject drawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drawn {
    pub subject: i64,
    pub grade: String,
}

/// A plan with its population and draw, as stored and exported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub name: String,
    pub population: Population,
    pub ratios: BTreeMap<String, f64>,
    /// Kept as text: JSON numbers lose precision above 2^53.
    pub seed: String,
    pub algorithm: String,
    /// The model version whose grades were drawn from.
    pub model: String,
    /// Subjects per grade in the population.
    pub population_by_grade: BTreeMap<String, u64>,
    /// Subjects drawn per grade.
    pub drawn_by_grade: BTreeMap<String, u64>,
    /// The population as drawn from (subject id and grade, ascending by id): with it and the seed the draw
    /// can be redone even after the grades changed.
    pub population_subjects: Vec<Drawn>,
    pub sample: Vec<Drawn>,
}

/// Why a plan cannot be drawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PlanError(pub String);

fn uniform(rng: &mut ChaCha8Rng, m: u64) -> u64 {
    let zone = u64::MAX - (u64::MAX % m + 1) % m;
    loop {
        let v = rng.next_u64();
        if v <= zone {
            return v % m;
        }
    }
}

/// Checks the ratios: each a grade the model knows, each within 0–1.
pub fn check_ratios(ratios: &BTreeMap<String, f64>, grades: &[String]) -> Result<(), PlanError> {
    if ratios.is_empty() {
        return Err(PlanError("ratios: name the share of at least one grade".into()));
    }
    for (grade, r) in ratios {
        if !grades.contains(grade) {
            return Err(PlanError(format!("ratios: {grade} is not a grade ({})", grades.join(", "))));
        }
        if !r.is_finite() || !(0.0..=1.0).contains(r) {
            return Err(PlanError(format!("ratios: the share of {grade} must lie in 0–1, not {r}")));
        }
    }
    Ok(())
}

/// Draws the sample from a population (subject, grade) as described in the module documentation.
pub fn draw(population: &[(i64, String)], ratios: &BTreeMap<String, f64>, seed: u64) -> Vec<Drawn> {
    let mut by_grade: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for (subject, grade) in population {
        by_grade.entry(grade.as_str()).or_default().push(*subject);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut sample = Vec::new();
    for (grade, ids) in &mut by_grade {
        let Some(ratio) = ratios.get(*grade) else { continue };
        ids.sort_unstable();
        let n = ids.len();
        let k = ((ratio * n as f64).ceil() as usize).min(n);
        for i in 0..k {
            let j = i + uniform(&mut rng, (n - i) as u64) as usize;
            ids.swap(i, j);
        }
        let mut chosen = ids[..k].to_vec();
        chosen.sort_unstable();
        sample.extend(chosen.into_iter().map(|subject| Drawn { subject, grade: (*grade).to_owned() }));
    }
    sample
}

/// Makes the plan: the draw and its counts.
pub fn plan(request: &PlanRequest, model: &str, population: &[(i64, String)]) -> Plan {
    let sample = draw(population, &request.ratios, request.seed);
    let mut population_by_grade = BTreeMap::new();
    for (_, g) in population {
        *population_by_grade.entry(g.clone()).or_insert(0) += 1;
    }
    let mut drawn_by_grade = BTreeMap::new();
    for d in &sample {
        *drawn_by_grade.entry(d.grade.clone()).or_insert(0) += 1;
    }
    Plan {
        name: request.name.clone(),
        population: request.population.clone(),
        ratios: request.ratios.clone(),
        seed: request.seed.to_string(),
        algorithm: ALGORITHM.to_owned(),
        model: model.to_owned(),
        population_by_grade,
        drawn_by_grade,
        population_subjects: population.iter().map(|(s, g)| Drawn { subject: *s, grade: g.clone() }).collect(),
        sample,
    }
}

/// Redoes a stored plan's draw from its own population and seed: equal to its sample when authentic.
pub fn redraw(plan: &Plan) -> Result<Vec<Drawn>, PlanError> {
    let seed: u64 = plan.seed.parse().map_err(|_| PlanError(format!("seed {:?} is not a number", plan.seed)))?;
    let population: Vec<(i64, String)> =
        plan.population_subjects.iter().map(|d| (d.subject, d.grade.clone())).collect();
    Ok(draw(&population, &plan.ratios, seed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn population() -> Vec<(i64, String)> {
        (1..=1000).map(|i| (i, ["A", "B", "B", "C", "D"][(i % 5) as usize].to_owned())).collect()
    }

    fn ratios() -> BTreeMap<String, f64> {
        [("A", 0.01), ("B", 0.03), ("C", 0.1), ("D", 0.3)].into_iter().map(|(g, r)| (g.to_owned(), r)).collect()
    }

    #[test]
    fn the_same_seed_draws_the_same_sample_and_another_seed_another() {
        let a = draw(&population(), &ratios(), 20260506);
        let mut shuffled = population();
        shuffled.reverse();
        assert_eq!(draw(&shuffled, &ratios(), 20260506), a, "the input order does not matter");
        assert_ne!(draw(&population(), &ratios(), 20260507), a);
        // ceil(ratio × n) of each grade: A 200 → 2, B 400 → 12, C 200 → 20, D 200 → 60.
        let count = |g: &str| a.iter().filter(|d| d.grade == g).count();
        assert_eq!([count("A"), count("B"), count("C"), count("D")], [2, 12, 20, 60]);
        let request = PlanRequest { name: "x".into(), population: Population::All, ratios: ratios(), seed: 20260506 };
        let plan = plan(&request, "m", &population());
        assert_eq!(redraw(&plan), Ok(a));
    }

    #[test]
    fn ratios_are_checked() {
        let grades: Vec<String> = ["A", "B", "C", "D"].map(String::from).to_vec();
        assert!(check_ratios(&ratios(), &grades).is_ok());
        let mut bad = ratios();
        bad.insert("E".into(), 0.5);
        assert!(check_ratios(&bad, &grades).is_err());
        assert!(check_ratios(&[("A".to_owned(), 1.5)].into_iter().collect(), &grades).is_err());
    }
}
