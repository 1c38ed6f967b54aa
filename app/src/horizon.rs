//! `memdrive horizon`: the behavioural forgetting curve. Each controller drives `memory_gap`
//! (or another scenario with a memory gap) at several gaps; its accuracy at a gap is the share
//! of episodes in which it made the right call, and its memory horizon the longest gap up to
//! which that share stays at least 0.75.
//!
//! The right call: with the hazard present, no collision; without it, no collision and past
//! every place the hazard may hide (at `World::memory_gap_judged_s_m`: the last place, or
//! `memory_gap.judged_past_m` beyond it) no later than the expert (who knows the road is
//! clear) plus 1 s. With
//! both kinds of seed equally common, a driver that guesses scores about 0.5 and perfect
//! memory 1.0.

use crate::eval::Factory;
use anyhow::{Result, bail};
use memdrive_models::MemoryController;
use memdrive_sim::parallel::map_ordered;
use memdrive_sim::scenario::{Override, ScenarioSpec};
use memdrive_sim::world::DT_SECS;
use memdrive_sim::{Controller, Expert, Outcome, Pilot, Privileged, World};
use serde::Serialize;
use std::ops::Range;

/// Accuracy at or above which a gap counts as bridged.
pub const BRIDGED: f64 = 0.75;
/// How much later than the expert a hazard-free episode may reach the point where it is timed (s).
pub const SLACK_S: f64 = 1.0;
/// Gaps measured unless `--gaps` says otherwise (s).
pub const DEFAULT_GAPS: [f64; 9] = [0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0];
/// Most gaps in one run.
pub const MAX_GAPS: usize = 64;
/// Most seeds per gap.
pub const MAX_SEEDS: u64 = 100_000;

/// A controller to measure: its label (`gru`, `gru=my.safetensors`), the weights it drives with,
/// and a maker of fresh instances.
pub struct Entry {
    /// As given on the command line.
    pub label: String,
    /// Its kind (`expert`, `gru`, ...).
    pub kind: String,
    /// Weight file, or `bundled` (or `none` for the baselines).
    pub weights: String,
    /// Fresh instances.
    pub factory: Factory,
    /// Fresh instances with their memory open (learned controllers), for the transplant.
    pub memory_factory: Option<MemoryFactory>,
    /// For a controller whose memory is a window of frames, how many it holds.
    pub window_frames: Option<usize>,
}

/// Makes fresh controllers whose memory can be copied and replaced.
pub type MemoryFactory = Box<dyn Fn() -> Box<dyn MemoryController + Send> + Send + Sync>;

/// Most steps after the barrier lifts within which a decision is measured (15 s).
pub const DECISION_STEPS: u32 = 150;
/// Where the decision is read: this far before the hiding place (m), before the pedestrian can
/// step out in front of a car that comes at any speed it could stop from.
pub const APPROACH_M: f64 = 6.0;
/// Approach speeds that differ by less than this are the same decision (m/s).
pub const SAME_DECISION_MPS: f64 = 1.0;

/// One controller's forgetting curve (the JSON contract of `memdrive horizon`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ControllerHorizon {
    /// As given on the command line.
    pub name: String,
    /// Weight file, `bundled`, or `none`.
    pub weights: String,
    /// Share of right calls per gap.
    pub accuracy: Vec<f64>,
    /// 95% Wilson interval of each accuracy.
    pub accuracy_ci: Vec<[f64; 2]>,
    /// Share of episodes that ended in a collision, per gap.
    pub collision_rate: Vec<f64>,
    /// Mean time to the goal over the episodes that reached it, per gap (s); `null` if none did.
    pub time_to_goal_s: Vec<Option<f64>>,
    /// Episodes per gap.
    pub episodes: Vec<usize>,
    /// Of those, episodes with the hazard present.
    pub hazard_episodes: Vec<usize>,
    /// The longest gap up to which accuracy stays at least 0.75 (s); `null` if even the
    /// shortest gap is not bridged.
    pub horizon_s: Option<f64>,
    /// For a controller whose memory is a window of frames: the time it spans (s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_s: Option<f64>,
    /// The gaps at least as long as that window at which it is nonetheless right in at least
    /// 0.75 of the episodes: when the barrier lifts, nothing of the pedestrian is left in its
    /// window, so it is right without remembering — the world gives the answer away or allows
    /// a compromise. Left out when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bridged_beyond_window_s: Vec<f64>,
    /// With `--transplant`, per gap: of the paired runs whose own decisions differ, the share
    /// in which the decision follows a memory transplanted from the other run (`null` where
    /// none differ, or for a controller without a memory to transplant).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transplant_follows: Option<Vec<Option<f64>>>,
    /// With `--transplant`, per gap: transplants made into runs whose own decisions differed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transplant_decisions: Option<Vec<usize>>,
}

/// The whole measurement.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HorizonReport {
    /// Scenario name.
    pub scenario: String,
    /// Gaps measured (s), ascending.
    pub gaps_s: Vec<f64>,
    /// One curve per controller, in the order given.
    pub controllers: Vec<ControllerHorizon>,
}

/// Parses `--gaps`: comma-separated seconds, ascending after sorting, each usable as the
/// scenario's gap.
pub fn parse_gaps(text: &str) -> Result<Vec<f64>> {
    let mut gaps = Vec::new();
    for item in text.split(',').map(str::trim) {
        if item.is_empty() {
            bail!("--gaps: an empty item in `{text}`; write seconds separated by commas");
        }
        let gap: f64 = item
            .parse()
            .map_err(|_| anyhow::anyhow!("--gaps: `{item}` is not a number of seconds"))?;
        if !gap.is_finite() || gap < 0.0 {
            bail!("--gaps: `{item}` must be a finite number of seconds, at least 0");
        }
        // -0 is 0.
        gaps.push(gap + 0.0);
    }
    if gaps.is_empty() || gaps.len() > MAX_GAPS {
        bail!("--gaps takes 1 to {MAX_GAPS} gaps, got {}", gaps.len());
    }
    gaps.sort_by(f64::total_cmp);
    gaps.dedup();
    Ok(gaps)
}

/// `spec` with its memory gap fixed at `gap_s`, checked like a file (a gap the episode cannot
/// hold is an error naming it).
fn at_gap(spec: &ScenarioSpec, gap_s: f64) -> Result<ScenarioSpec> {
    let mut fixed = spec.clone();
    if let Some(gap) = &mut fixed.memory_gap {
        gap.gap_s = memdrive_sim::scenario::Param::fixed(gap_s)
            .map_err(|e| anyhow::anyhow!("--gaps: {e}"))?;
    }
    fixed.validate(&format!(
        "scenario {} at a gap of {} s",
        spec.name,
        memdrive_sim::scenario::compact(gap_s)
    ))?;
    Ok(fixed)
}

/// What one episode came to, for the accuracy.
#[derive(Clone, Copy, Debug)]
struct Episode {
    hazard: bool,
    outcome: Outcome,
    steps: u32,
    /// First step with the car's centre at the point where it is timed, past every place the
    /// hazard may hide.
    passed_step: Option<u32>,
}

fn drive(spec: &ScenarioSpec, seed: u64, pilot: &mut Pilot) -> Result<Episode> {
    let mut world = World::new(spec, seed);
    let (Some((_, hazard)), Some(judged_s_m)) =
        (world.memory_gap_hazard(), world.memory_gap_judged_s_m())
    else {
        bail!(
            "scenario `{}` has no memory gap (a [memory_gap] section); horizon needs one, e.g. memory_gap",
            spec.name
        );
    };
    pilot.reset();
    let mut passed_step = None;
    // Checked after every step (not at the start).
    let mut passed = |w: &World| {
        if passed_step.is_none() && w.steps() > 0 && w.ego_frenet().s_m > judged_s_m {
            passed_step = Some(w.steps());
        }
    };
    world.run(|w| {
        // The world after the last step: past the point where it is timed yet?
        passed(w);
        Some(pilot.act(w))
    });
    passed(&world);
    Ok(Episode {
        hazard,
        outcome: world.outcome().unwrap_or(Outcome::Timeout),
        steps: world.steps(),
        passed_step,
    })
}

/// The 95% Wilson score interval of `k` successes in `n` trials.
pub fn wilson(k: usize, n: usize) -> [f64; 2] {
    if n == 0 {
        return [0.0, 1.0];
    }
    let (k, n, z) = (k as f64, n as f64, 1.959_963_984_540_054);
    let p = k / n;
    let denominator = 1.0 + z * z / n;
    let center = (p + z * z / (2.0 * n)) / denominator;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denominator;
    [(center - half).max(0.0), (center + half).min(1.0)]
}

/// The time a window of `frames` spans (s), rounded to the microsecond so that 16 frames are
/// 1.6 s exactly, as gaps are written.
pub fn window_seconds(frames: usize) -> f64 {
    (frames as f64 * DT_SECS * 1e6).round() / 1e6
}

/// The gaps at least `window_s` long (a window of frames spans the frame count times the step)
/// at which the accuracy is at least `BRIDGED`: bridged by a controller that, when the call is
/// due, holds nothing of the sighting.
pub fn bridged_beyond(gaps: &[f64], accuracy: &[f64], window_s: f64) -> Vec<f64> {
    gaps.iter()
        .zip(accuracy)
        .filter(|(g, a)| **g >= window_s && **a >= BRIDGED)
        .map(|(g, _)| *g)
        .collect()
}

/// The longest gap up to which every accuracy is at least `BRIDGED`.
pub fn horizon(gaps: &[f64], accuracy: &[f64]) -> Option<f64> {
    gaps.iter()
        .zip(accuracy)
        .take_while(|(_, a)| **a >= BRIDGED)
        .last()
        .map(|(g, _)| *g)
}

/// Measures every entry at every gap over `seeds` (the expert is driven too, as the reference
/// for the hazard-free seeds); `gap_done` hears of each gap as it is finished. The result does
/// not depend on `threads`.
pub fn measure(
    spec: &ScenarioSpec,
    gaps: &[f64],
    seeds: Range<u64>,
    entries: &[Entry],
    threads: Option<usize>,
    gap_done: &mut dyn FnMut(),
) -> Result<HorizonReport> {
    if spec.memory_gap.is_none() {
        bail!(
            "scenario `{}` has no memory gap (a [memory_gap] section); horizon needs one, e.g. memory_gap",
            spec.name
        );
    }
    if seeds.end - seeds.start > MAX_SEEDS {
        bail!("--seeds spans more than {MAX_SEEDS} seeds");
    }
    let mut curves: Vec<ControllerHorizon> = entries
        .iter()
        .map(|e| ControllerHorizon {
            name: e.label.clone(),
            weights: e.weights.clone(),
            accuracy: Vec::new(),
            accuracy_ci: Vec::new(),
            collision_rate: Vec::new(),
            time_to_goal_s: Vec::new(),
            episodes: Vec::new(),
            hazard_episodes: Vec::new(),
            horizon_s: None,
            window_s: e.window_frames.map(window_seconds),
            bridged_beyond_window_s: Vec::new(),
            transplant_follows: None,
            transplant_decisions: None,
        })
        .collect();
    let expert: Factory = Box::new(|| Pilot::Privileged(Box::new(Expert::new())));
    for &gap in gaps {
        let gap_spec = at_gap(spec, gap)?;
        // Job (entry, seed); entry == entries.len() is the expert reference.
        let jobs: Vec<(usize, u64)> = (0..=entries.len())
            .flat_map(|e| seeds.clone().map(move |s| (e, s)))
            .collect();
        let episodes = map_ordered(
            &jobs,
            threads,
            || -> Vec<Option<Pilot>> { (0..=entries.len()).map(|_| None).collect() },
            |drivers, &(e, seed)| {
                let make = || match entries.get(e) {
                    Some(entry) => (entry.factory)(),
                    None => expert(),
                };
                let driver = drivers[e].get_or_insert_with(make);
                drive(&gap_spec, seed, driver)
            },
        )
        .into_iter()
        .collect::<Result<Vec<Episode>>>()?;
        let per = (seeds.end - seeds.start) as usize;
        let reference = &episodes[entries.len() * per..];
        for (e, curve) in curves.iter_mut().enumerate() {
            let mine = &episodes[e * per..(e + 1) * per];
            let right = mine
                .iter()
                .zip(reference)
                .filter(|(m, r)| {
                    let safe = m.outcome != Outcome::Collision;
                    let quick = || match (m.passed_step, r.passed_step) {
                        (Some(mine), Some(expert)) => {
                            f64::from(mine) * DT_SECS <= f64::from(expert) * DT_SECS + SLACK_S
                        }
                        (Some(_), None) => true,
                        (None, _) => false,
                    };
                    safe && (m.hazard || quick())
                })
                .count();
            let goals: Vec<f64> = mine
                .iter()
                .filter(|m| m.outcome == Outcome::Goal)
                .map(|m| f64::from(m.steps) * DT_SECS)
                .collect();
            let n = mine.len();
            curve.accuracy.push(right as f64 / n as f64);
            curve.accuracy_ci.push(wilson(right, n));
            curve.collision_rate.push(
                mine.iter()
                    .filter(|m| m.outcome == Outcome::Collision)
                    .count() as f64
                    / n as f64,
            );
            curve
                .time_to_goal_s
                .push((!goals.is_empty()).then(|| goals.iter().sum::<f64>() / goals.len() as f64));
            curve.episodes.push(n);
            curve
                .hazard_episodes
                .push(mine.iter().filter(|m| m.hazard).count());
        }
        gap_done();
    }
    for curve in &mut curves {
        curve.horizon_s = horizon(gaps, &curve.accuracy);
        if let Some(window_s) = curve.window_s {
            curve.bridged_beyond_window_s = bridged_beyond(gaps, &curve.accuracy, window_s);
        }
    }
    Ok(HorizonReport {
        scenario: spec.name.clone(),
        gaps_s: gaps.to_vec(),
        controllers: curves,
    })
}

/// The car's speed as its centre comes within `APPROACH_M` of the hiding place, with
/// `controller` driving from `world` on (m/s): how fast it chose to come past the van, before
/// anything there can be seen. The speed after `DECISION_STEPS` if it never gets there.
fn decision_mps(mut world: World, controller: &mut dyn MemoryController) -> f64 {
    let hiding_s_m = world.memory_gap_hazard().map_or(f64::INFINITY, |h| h.0);
    let mut steps = 0;
    world.run(|w| {
        steps += 1;
        (steps <= DECISION_STEPS && w.ego_frenet().s_m < hiding_s_m - APPROACH_M)
            .then(|| controller.act(w.observation()))
    });
    world.ego().speed_mps
}

/// The scenario `spec` with its memory-gap pedestrian certain to cross and certain not to:
/// the pair of worlds a transplant swaps memories between.
fn hazard_pair(spec: &ScenarioSpec) -> Result<[ScenarioSpec; 2]> {
    let with = |hazard: bool| -> Result<ScenarioSpec> {
        let o = Override::parse(&format!(
            "pedestrians.{}.probability={}",
            spec.memory_gap.as_ref().map_or(0, |g| g.pedestrian),
            u8::from(hazard)
        ))?;
        Ok(spec.with_overrides(&[o])?)
    };
    Ok([with(true)?, with(false)?])
}

/// Paired runs of one seed at the moment the barrier lifts: the worlds of `pair` (with the
/// hazard and without), each driven by the expert until then (identical in all the car senses), with the
/// controller watching each. Then four continuations: each run with its own memory and with
/// the other's. Returns the transplants whose own decisions differed and how many of them
/// followed the transplanted memory.
fn transplant_pair(
    pair: &[ScenarioSpec; 2],
    seed: u64,
    make: &MemoryFactory,
) -> Result<(usize, usize)> {
    let mut runs = Vec::new();
    for spec in pair {
        let mut world = World::new(spec, seed);
        let release = world.memory_gap_release_s().unwrap_or(0.0);
        let mut expert = Expert::new();
        let mut watcher = make();
        expert.reset();
        watcher.reset();
        world.run(|w| {
            (w.time_s() < release).then(|| {
                watcher.act(w.observation());
                expert.act_in(w)
            })
        });
        runs.push((world, watcher.memory_state()));
    }
    let drive = |world: &World, memory: &memdrive_models::MemoryState| -> Result<f64> {
        let mut c = make();
        c.reset();
        c.set_memory_state(memory)?;
        Ok(decision_mps(world.clone(), c.as_mut()))
    };
    let (with, without) = (&runs[0], &runs[1]);
    let own = [drive(&with.0, &with.1)?, drive(&without.0, &without.1)?];
    if (own[0] - own[1]).abs() < SAME_DECISION_MPS {
        return Ok((0, 0));
    }
    let swapped = [drive(&with.0, &without.1)?, drive(&without.0, &with.1)?];
    // A transplant is followed when the run now does what the donor run did.
    let follows = (0..2)
        .filter(|&i| (swapped[i] - own[1 - i]).abs() < (swapped[i] - own[i]).abs())
        .count();
    Ok((2, follows))
}

/// Adds the transplant check to `report`: for each learned entry at each gap, over `seeds`.
pub fn add_transplants(
    report: &mut HorizonReport,
    spec: &ScenarioSpec,
    seeds: Range<u64>,
    entries: &[Entry],
    threads: Option<usize>,
) -> Result<()> {
    let pairs_by_gap = (report.gaps_s.iter())
        .map(|&gap| hazard_pair(&at_gap(spec, gap)?))
        .collect::<Result<Vec<_>>>()?;
    let seeds: Vec<u64> = seeds.collect();
    for (curve, entry) in report.controllers.iter_mut().zip(entries) {
        let Some(make) = &entry.memory_factory else {
            continue;
        };
        let (mut follows, mut decisions) = (Vec::new(), Vec::new());
        for pair in &pairs_by_gap {
            let pairs = map_ordered(
                &seeds,
                threads,
                || (),
                |(), &seed| transplant_pair(pair, seed, make),
            )
            .into_iter()
            .collect::<Result<Vec<_>>>()?;
            let made: usize = pairs.iter().map(|p| p.0).sum();
            let followed: usize = pairs.iter().map(|p| p.1).sum();
            decisions.push(made);
            follows.push((made > 0).then(|| followed as f64 / made as f64));
        }
        curve.transplant_follows = Some(follows);
        curve.transplant_decisions = Some(decisions);
    }
    Ok(())
}

/// The report as text: accuracy with its interval per gap, then the horizon.
pub fn text(report: &HorizonReport) -> String {
    let mut out = format!(
        "memory horizon on {} (accuracy of the right call, 95% interval; bridged at >= {BRIDGED})\n",
        report.scenario
    );
    // The first column as wide as the longest name, each gap's as wide as "0.49 [0.43-0.56]".
    let w = report
        .controllers
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(28);
    out += &format!("{:<w$}", "controller \\ gap (s)");
    for g in &report.gaps_s {
        out += &format!(" {:>16}", memdrive_sim::scenario::compact(*g));
    }
    out += "  horizon\n";
    for c in &report.controllers {
        out += &format!("{:<w$}", c.name);
        for (a, [lo, hi]) in c.accuracy.iter().zip(&c.accuracy_ci) {
            out += &format!(" {:>16}", format!("{a:.2} [{lo:.2}-{hi:.2}]"));
        }
        match c.horizon_s {
            Some(h) => out += &format!("  {} s\n", memdrive_sim::scenario::compact(h)),
            None => out += "  none\n",
        }
    }
    for c in &report.controllers {
        if let (Some(window_s), false) = (c.window_s, c.bridged_beyond_window_s.is_empty()) {
            out += &format!(
                "note: {} is right at {} s, gaps as long as its {} s window or longer: nothing of the pedestrian is left in its window when the barrier lifts, so it is right without remembering (the world gives the answer away, or lets a driver without memory be safe and quick)\n",
                c.name,
                c.bridged_beyond_window_s
                    .iter()
                    .map(|g| memdrive_sim::scenario::compact(*g))
                    .collect::<Vec<_>>()
                    .join(", "),
                memdrive_sim::scenario::compact(window_s),
            );
        }
    }
    let transplants: Vec<_> = report
        .controllers
        .iter()
        .filter_map(|c| {
            Some((
                c,
                c.transplant_follows.as_ref()?,
                c.transplant_decisions.as_ref()?,
            ))
        })
        .collect();
    if !transplants.is_empty() {
        out += &format!(
            "memory transplant at the barrier's lifting: share of decisions (speed {APPROACH_M} m before the hiding place) that follow the other run's memory (\"-\": the two runs never decided differently)\n"
        );
        for (c, follows, decisions) in transplants {
            out += &format!("{:<w$}", c.name);
            for (f, n) in follows.iter().zip(decisions) {
                // "-": the two runs' own decisions never differed, so there was nothing to test.
                let cell = f.map_or_else(|| format!("- (0 of {n})"), |f| format!("{f:.2} of {n}"));
                out += &format!(" {cell:>16}");
            }
            out += "\n";
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_the_textbook_interval() {
        // 8 of 10: the Wilson interval is [0.490, 0.943] (Agresti & Coull's table).
        let [lo, hi] = wilson(8, 10);
        assert!(
            (lo - 0.490).abs() < 0.001 && (hi - 0.943).abs() < 0.001,
            "{lo} {hi}"
        );
        assert_eq!(wilson(0, 0), [0.0, 1.0]);
        let [lo, hi] = wilson(50, 50);
        assert!(hi == 1.0 && lo > 0.92, "{lo}");
    }

    #[test]
    fn the_horizon_is_the_last_gap_of_an_unbroken_run_of_bridged_gaps() {
        let gaps = [0.5, 1.0, 2.0, 4.0];
        assert_eq!(horizon(&gaps, &[0.9, 0.8, 0.6, 0.9]), Some(1.0));
        assert_eq!(horizon(&gaps, &[0.9, 0.9, 0.9, 0.9]), Some(4.0));
        assert_eq!(horizon(&gaps, &[0.7, 0.9, 0.9, 0.9]), None);
        assert_eq!(horizon(&gaps, &[0.75, 0.5, 0.5, 0.5]), Some(0.5));
    }

    /// A window of 16 frames spans 1.6 s: gaps from 1.6 s on that are still bridged are
    /// flagged, shorter ones (the sighting may be in the window) and unbridged ones are not.
    #[test]
    fn gaps_bridged_beyond_a_window_are_flagged() {
        let gaps = [0.5, 1.0, 1.6, 2.0, 4.0, 8.0];
        let window_s = window_seconds(16);
        assert_eq!(window_s, 1.6);
        assert_eq!(
            bridged_beyond(&gaps, &[1.0, 1.0, 0.8, 0.5, 0.76, 0.74], window_s),
            vec![1.6, 4.0]
        );
        assert!(bridged_beyond(&gaps, &[1.0, 1.0, 0.5, 0.5, 0.5, 0.5], window_s).is_empty());
    }

    #[test]
    fn gaps_parse_sorted_and_bad_ones_are_named() {
        assert_eq!(parse_gaps("4, 0.5,1,1").ok(), Some(vec![0.5, 1.0, 4.0]));
        for bad in ["", "x", "-1", "nan", "inf"] {
            assert!(parse_gaps(bad).is_err(), "{bad}");
        }
    }
}
