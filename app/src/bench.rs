//! `memdrive bench`: throughput of the world alone, single thread.
//!
//! The world is stepped with the trivial `cruise` controller on `mixed_traffic` at its own
//! actor count and scaled to 50 and 200 actors. Each figure is the median of several timed
//! rounds; only `World::step` (physics, traffic, lidar, observation) is inside the timer.

use crate::learned;
use anyhow::Result;
use memdrive_models::weights::ModelKind;
use memdrive_sim::scenario::builtin;
use memdrive_sim::{Controller, Cruise, Expert, Privileged, World};
use serde::Serialize;
use std::time::{Duration, Instant};

/// Steps per timed round.
const STEPS_PER_ROUND: u32 = 20_000;
/// Timed rounds; the median is reported.
const ROUNDS: usize = 7;

/// One configuration's throughput.
#[derive(Clone, Debug, Serialize)]
pub struct WorldBench {
    /// Actors in the world.
    pub actors: usize,
    /// Lidar beams.
    pub rays: usize,
    /// Median control steps per second.
    pub sim_steps_per_s: f64,
}

/// Everything `bench` measures.
#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    /// Actors in `mixed_traffic` as shipped.
    pub actors: usize,
    /// Lidar beams.
    pub rays: usize,
    /// Median control steps per second for `mixed_traffic` as shipped.
    pub sim_steps_per_s: f64,
    /// The same measurement at 50 and 200 actors.
    pub scaling: Vec<WorldBench>,
    /// Median time of one `act()` of each kind's bundled controller (µs), keyed
    /// `<id>_act_us` (e.g. `gru_act_us`), in the registry's order.
    #[serde(flatten, serialize_with = "in_order")]
    pub act_us: Vec<(String, f64)>,
    /// Memory curves (lags 0…40) of every kind's bundled controller over 10,000 white-noise
    /// probe steps each, recording included (s, median of 3 runs, all cores).
    pub memory_curve_s: f64,
    /// `memdrive horizon` as shipped: its default gaps x 200 seeds x the expert, the reactive
    /// baseline and every shipped network (the 64-frame transformer too), all cores (s, one
    /// run).
    pub horizon_s: f64,
}

/// Times `memory_curve_s`: each bundled controller driven through 10,000 probe frames and its
/// memory curve fitted, side by side on all cores (the result does not depend on the
/// thread count). The frame pool is drawn beforehand.
fn memory_curve_seconds(models: &[&memdrive_models::Model]) -> Result<f64> {
    use memdrive_models::memory;
    let pool = crate::memory::pool(Some(1))?;
    let elements = memory::curve_elements(&learned::builtin_layout());
    let mut runs = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        let recs = memdrive_sim::parallel::map_ordered(
            models,
            None,
            || (),
            |(), model| crate::memory::noise_recording(model, &pool, memory::NOISE_STEPS),
        );
        let refs: Vec<&memory::Recording> = recs.iter().collect();
        std::hint::black_box(memory::memory_curves(
            &refs,
            &elements,
            memory::DEFAULT_LAGS,
            None,
        ));
        runs.push(start.elapsed().as_secs_f64());
    }
    runs.sort_by(f64::total_cmp);
    Ok(runs[1])
}

/// Median µs per `act()` over recorded observations of real episodes (so inputs look like
/// driving, not noise), in rounds over the whole recording.
fn act_latency_us(make: &dyn Fn() -> Box<dyn Controller + Send>) -> Result<f64> {
    let spec = builtin("mixed_traffic")
        .ok_or_else(|| anyhow::anyhow!("mixed_traffic is not built in"))??;
    let mut observations = Vec::new();
    for seed in 0..3 {
        let mut world = World::new(&spec, seed);
        let mut expert = Expert::new();
        expert.reset();
        world.run(|w| {
            observations.push(w.observation().clone());
            Some(expert.act_in(w))
        });
    }
    let mut controller = make();
    controller.reset();
    let mut rounds = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for obs in &observations {
            std::hint::black_box(controller.act(obs));
        }
        rounds.push(start.elapsed().as_secs_f64() * 1e6 / observations.len() as f64);
    }
    rounds.sort_by(f64::total_cmp);
    Ok(rounds[ROUNDS / 2])
}

fn measure(spec: &memdrive_sim::ScenarioSpec) -> WorldBench {
    let mut driver = Cruise::new(12.0);
    let mut seed = 0;
    let mut world = World::new(spec, seed);
    let (actors, rays) = (world.actors().len(), world.lidar().beams());
    let mut rates = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let mut elapsed = Duration::ZERO;
        let mut steps = 0;
        while steps < STEPS_PER_ROUND {
            if world.outcome().is_some() {
                seed += 1;
                world = World::new(spec, seed);
                driver.reset();
            }
            // Only the world's steps are timed: from the controls handed over to the next
            // call for controls.
            let mut stepping: Option<Instant> = None;
            world.run(|w| {
                if let Some(start) = stepping.take() {
                    elapsed += start.elapsed();
                }
                (steps < STEPS_PER_ROUND).then(|| {
                    let controls = driver.act(w.observation());
                    steps += 1;
                    stepping = Some(Instant::now());
                    controls
                })
            });
            if let Some(start) = stepping {
                elapsed += start.elapsed();
            }
        }
        rates.push(f64::from(steps) / elapsed.as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    WorldBench {
        actors,
        rays,
        sim_steps_per_s: rates[ROUNDS / 2],
    }
}

/// Runs the benchmark.
pub fn run() -> Result<BenchReport> {
    let spec = builtin("mixed_traffic")
        .ok_or_else(|| anyhow::anyhow!("mixed_traffic is not built in"))??;
    let base = measure(&spec);
    let scaling = [50, 200]
        .map(|n| measure(&spec.with_actor_count(n)))
        .to_vec();
    let models = ModelKind::all()
        .iter()
        .map(|&kind| learned::load(kind, None))
        .collect::<Result<Vec<_>>>()?;
    let mut act_us = Vec::new();
    for model in &models {
        let us = act_latency_us(&|| -> Box<dyn Controller + Send> { model.controller() })?;
        act_us.push((format!("{}_act_us", model.kind()), us));
    }
    // The other shipped weights (the 64-frame transformer), under their own names.
    for &kind in ModelKind::all() {
        for &bundled in kind.more_bundled() {
            let model = learned::load_shipped(bundled, kind, None)?;
            let us = act_latency_us(&|| -> Box<dyn Controller + Send> { model.controller() })?;
            act_us.push((format!("{}_act_us", bundled.name), us));
        }
    }
    let memory_curve_s = memory_curve_seconds(&models.iter().collect::<Vec<_>>())?;
    let horizon_s = horizon_seconds()?;
    Ok(BenchReport {
        actors: base.actors,
        rays: base.rays,
        sim_steps_per_s: base.sim_steps_per_s,
        scaling,
        act_us,
        memory_curve_s,
        horizon_s,
    })
}

/// Writes `(key, value)` pairs as the fields of a map, in order.
fn in_order<S: serde::Serializer>(pairs: &[(String, f64)], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(pairs.len()))?;
    for (k, v) in pairs {
        map.serialize_entry(k, v)?;
    }
    map.end()
}

/// Times the default `memdrive horizon` run (its controllers, gaps and seeds).
fn horizon_seconds() -> Result<f64> {
    use crate::horizon;
    let spec =
        builtin("memory_gap").ok_or_else(|| anyhow::anyhow!("memory_gap is not built in"))??;
    let entries = ["expert", "reactive"]
        .into_iter()
        .chain(ModelKind::bundled_names())
        .map(|name| crate::cli::entry(name, None))
        .collect::<Result<Vec<_>>>()?;
    let start = Instant::now();
    std::hint::black_box(horizon::measure(
        &spec,
        &horizon::DEFAULT_GAPS,
        0..200,
        &entries,
        None,
        &mut || {},
    )?);
    Ok(start.elapsed().as_secs_f64())
}

/// The report as text.
pub fn text(report: &BenchReport) -> String {
    let mut out = format!(
        "world step, mixed_traffic, {} rays, single thread (median of {ROUNDS} rounds of {STEPS_PER_ROUND} steps)\n",
        report.rays
    );
    out += &format!(
        "  {:>4} actors: {:>10.0} steps/s\n",
        report.actors, report.sim_steps_per_s
    );
    for b in &report.scaling {
        out += &format!(
            "  {:>4} actors: {:>10.0} steps/s\n",
            b.actors, b.sim_steps_per_s
        );
    }
    out += "controller act(), bundled weights, median per step\n";
    for (key, us) in &report.act_us {
        out += &format!("  {key}: {us:.2}\n");
    }
    out += &format!(
        "memory curves, {} controllers x 10,000 white-noise steps, lags 0..40, all cores (median of 3)
  memory_curve_s: {:.3}
memory horizon, {} gaps x 200 seeds x {} controllers, all cores (one run)
  horizon_s: {:.2}
",
        ModelKind::all().len(),
        report.memory_curve_s,
        crate::horizon::DEFAULT_GAPS.len(),
        ModelKind::bundled_names().len() + 2,
        report.horizon_s
    );
    out
}

/// What `bench --gui` measures.
#[derive(Clone, Debug, Serialize)]
pub struct GuiBenchReport {
    /// Frames measured.
    pub frames: usize,
    /// Lanes (worlds with memory panels) on screen.
    pub lanes: usize,
    /// Simulation steps taken during the measured frames.
    pub sim_steps: u32,
    /// Median time of one frame (ms): stepping, the app's UI code and tessellation.
    pub frame_ms_median: f64,
    /// 95th percentile of the same (ms).
    pub frame_ms_p95: f64,
    /// Worst frame (ms).
    pub frame_ms_max: f64,
}

/// Runs the real app state for `frames` frames at 60 Hz and 1× speed through egui_kittest (no
/// display, no GPU) on a 1600×950 window, a lane per learned kind with its memory panel, and times each
/// frame on this thread: the app's update and drawing plus egui's tessellation into triangles.
/// Only rasterising on the GPU is left out.
pub fn gui(frames: usize) -> Result<GuiBenchReport> {
    use crate::gui::MemdriveApp;
    use crate::gui::dialogs::ScriptedDialogs;
    use crate::gui::settings::Settings;
    use std::sync::Arc;
    anyhow::ensure!(frames > 0, "--frames must be at least 1");
    let app =
        MemdriveApp::with_settings(Settings::default(), Arc::new(ScriptedDialogs::default()))?;
    let mut harness = egui_kittest::Harness::builder()
        .with_size(egui::vec2(1600.0, 950.0))
        .with_step_dt(1.0 / 60.0)
        .build_eframe(|_| app);
    // Warm up: fonts, textures, first layout.
    for _ in 0..10 {
        harness.step();
    }
    let start_steps = harness.state().lab().step_count();
    let mut times = Vec::with_capacity(frames);
    for _ in 0..frames {
        let start = Instant::now();
        harness.step();
        let shapes = harness.output().shapes.clone();
        let ppp = harness.output().pixels_per_point;
        std::hint::black_box(harness.ctx.tessellate(shapes, ppp));
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    let sim_steps = harness.state().lab().step_count() - start_steps;
    let lanes = harness.state().lab().lanes().len();
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    Ok(GuiBenchReport {
        frames,
        lanes,
        sim_steps,
        frame_ms_median: at(0.5),
        frame_ms_p95: at(0.95),
        frame_ms_max: at(1.0),
    })
}

/// The report as text.
pub fn gui_text(r: &GuiBenchReport) -> String {
    format!(
        "app frames (headless, {} lanes, 1x speed, {} frames, {} sim steps):\n  frame_ms median {:.2}, p95 {:.2}, max {:.2}\n",
        r.lanes, r.frames, r.sim_steps, r.frame_ms_median, r.frame_ms_p95, r.frame_ms_max
    )
}
