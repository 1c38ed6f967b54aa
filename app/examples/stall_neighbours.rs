//! What in the training data looks like a moment where a learned controller waits: a
//! developer's tool for the driving experiments (`docs/driving.md`).
//!
//! The controller drives `--scenario` with `--seed` until `--at` seconds. Then the tool
//! collects labelled rows as a training run does — the expert driving the first round's
//! seeds, and the controller driving the second round's with the expert labelling — and
//! lists the `--k` rows whose frames are nearest to the moment's last frame (Euclidean, in
//! the controller's own normalised inputs), with the expert's label on each and where it came
//! from. Labels that brake there, on rows that look like the wait, are what teaches the wait.
//! `--max-speed` keeps only rows at most that fast (0.3: at rest), and the labels of every row
//! kept are summed up by driver and scenario first. The scenarios are collected as they are
//! (a recipe's `--set` changes are not applied), with the bundled recipes' proportions.
//!
//! ```text
//! cargo run --release -p memdrive --example stall_neighbours -- \
//!     --controller transformer --scenario mixed_traffic --seed 73 --at 60
//! ```

use anyhow::{Result, bail};
use clap::Parser;
use memdrive_models::action::ActionScale;
use memdrive_models::dataset::{Dataset, Driver, collect};
use memdrive_models::train::{TrainOptions, round_seeds};
use memdrive_sim::observation::{EgoField, Element, RayField};
use memdrive_sim::world::DT_SECS;
use memdrive_sim::{Controller, Controls, Expert, ObservationSpec, Privileged, World};
use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;

#[path = "support/moment.rs"]
mod moment;

/// Command-line options.
#[derive(Parser, Debug)]
struct Args {
    #[command(flatten)]
    moment: moment::MomentArgs,
    /// How many nearest rows to list.
    #[arg(long, default_value_t = 25)]
    k: usize,
    /// Episodes of each driving scenario collected per source (`mixed_traffic` five times
    /// as many, `occluded_crossing` and `memory_gap` twice, as the bundled recipes do).
    #[arg(long, default_value_t = 120)]
    episodes: u64,
    /// Only rows at most this fast (m/s).
    #[arg(long, default_value_t = f32::INFINITY)]
    max_speed: f32,
}

fn main() -> ExitCode {
    moment::exit_code(run(Args::parse()))
}

/// Where each row of the pooled data came from.
struct Source {
    data: Dataset,
    driver: &'static str,
    /// Scenario name and seed of each episode, in the data's order.
    episodes: Vec<(String, u64)>,
}

/// The episode `row` belongs to.
fn episode_of(data: &Dataset, row: usize) -> usize {
    data.episodes
        .partition_point(|r| r.end <= row)
        .min(data.episodes.len().saturating_sub(1))
}

/// The nearest pedestrian and vehicle beams of a frame: "ped 12.3 m at +20°".
fn describe(frame: &[f32], layout: &ObservationSpec, world: &World) -> String {
    let at = |e: Element| layout.index(e);
    let lidar = world.lidar();
    let mut parts = Vec::new();
    for (field, name) in [(RayField::Pedestrian, "ped"), (RayField::Vehicle, "car")] {
        let nearest = (0..layout.beams())
            .filter(|&b| frame[at(Element::Ray(b, field))] > 0.5)
            .map(|b| (frame[at(Element::Ray(b, RayField::Distance))], b))
            .min_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((d, b)) = nearest {
            parts.push(format!(
                "{name} {d:.1} m at {:+.0}°",
                lidar.beam_angle_rad(b).to_degrees()
            ));
        }
    }
    if parts.is_empty() {
        "nothing".into()
    } else {
        parts.join(", ")
    }
}

fn run(args: Args) -> Result<()> {
    let (model, spec) = args.moment.load()?;
    if args.k == 0 || !(1..=2_000).contains(&args.episodes) {
        bail!("--k must be at least 1, --episodes from 1 to 2000");
    }
    let at = args.moment.at;

    // The moment.
    let mut world = World::new(&spec, args.moment.seed);
    let mut learner = model.controller();
    learner.reset();
    let mut expert = Expert::new();
    expert.reset();
    let (mut last, mut label, mut asked) = (Vec::new(), Controls::default(), Controls::default());
    world.run(|w| {
        if w.time_s() > at {
            return None;
        }
        label = expert.act_in(w);
        last = w.observation().values().to_vec();
        asked = learner.act(w.observation());
        Some(asked)
    });
    if world.time_s() <= at {
        bail!(
            "the episode ended at {:.1} s, before {} s",
            world.time_s(),
            at
        );
    }
    let layout = world.observation().spec().clone();
    let mut out = String::new();
    writeln!(
        out,
        "{} in {} seed {} at {:.1} s: {:.2} m/s, asks {:+.2} m/s², the expert {:+.2}; sees {}",
        args.moment.controller,
        args.moment.scenario,
        args.moment.seed,
        world.time_s(),
        world.ego().speed_mps,
        asked.accel_mps2,
        label.accel_mps2,
        describe(&last, &layout, &world)
    )?;

    // The rows a training run would hold: the expert's, and the controller's own.
    let mut options = TrainOptions {
        episodes_per_scenario: args.episodes,
        ..TrainOptions::default()
    };
    for (name, times) in [
        ("mixed_traffic", 5),
        ("occluded_crossing", 2),
        ("memory_gap", 2),
    ] {
        options
            .scenario_episodes
            .insert(name.into(), args.episodes * times);
    }
    let specs = options.scenarios()?;
    let make = || model.controller() as Box<dyn Controller + Send>;
    let mut sources = Vec::new();
    for (round, driver) in [(0, "expert"), (1, "learner")] {
        let seeds: Vec<_> = specs
            .iter()
            .map(|s| round_seeds(round, options.episodes(&s.name)))
            .collect();
        let episodes = specs
            .iter()
            .zip(&seeds)
            .flat_map(|(s, r)| r.clone().map(|seed| (s.name.clone(), seed)))
            .collect();
        let data = if round == 0 {
            collect(&specs, &seeds, &Driver::Expert, None)
        } else {
            collect(&specs, &seeds, &Driver::Learner(&make), None)
        };
        sources.push(Source {
            data,
            driver,
            episodes,
        });
    }

    // Nearest rows in normalised inputs.
    let normaliser = model.normaliser();
    let dim = layout.len();
    let mut query = vec![0.0; dim];
    normaliser.apply(&last, &mut query);
    let mut scaled = vec![0.0; dim];
    let speed_at = layout.index(Element::Ego(EgoField::Speed));
    let mut found: Vec<(f32, usize, usize)> = Vec::new();
    for (s, source) in sources.iter().enumerate() {
        for (row, frame) in source.data.observations.chunks_exact(dim).enumerate() {
            if frame[speed_at] > args.max_speed {
                continue;
            }
            normaliser.apply(frame, &mut scaled);
            let d: f32 = scaled
                .iter()
                .zip(&query)
                .map(|(a, b)| (a - b) * (a - b))
                .sum();
            found.push((d.sqrt(), s, row));
        }
    }
    found.sort_by(|a, b| a.0.total_cmp(&b.0));
    let scale = ActionScale::default();
    let listed = args.k.min(found.len());
    // The labels of every row searched, by driver and scenario.
    for (s, source) in sources.iter().enumerate() {
        let mut by_scenario: std::collections::BTreeMap<&str, Vec<f64>> = Default::default();
        for &(_, _, row) in found.iter().filter(|f| f.1 == s) {
            let e = episode_of(&source.data, row);
            let t = &source.data.targets[2 * row..2 * row + 2];
            by_scenario
                .entry(source.episodes[e].0.as_str())
                .or_default()
                .push(scale.controls([t[0], t[1]]).accel_mps2);
        }
        for (name, labels) in by_scenario {
            let n = labels.len() as f64;
            let share = |keep: &dyn Fn(f64) -> bool| {
                100.0 * labels.iter().filter(|&&a| keep(a)).count() as f64 / n
            };
            writeln!(
                out,
                "{:<7} {name:<17} {:>8} rows searched: mean label {:+.2} m/s², {:.1}% braking, {:.1}% below -1 m/s²",
                source.driver,
                labels.len(),
                labels.iter().sum::<f64>() / n,
                share(&|a| a < 0.0),
                share(&|a| a < -1.0)
            )?;
        }
    }
    writeln!(
        out,
        "\n{} rows searched; the {} nearest:\n distance  driver   scenario           seed      t s   speed  label m/s²  label 2 s on  sees",
        found.len(),
        listed
    )?;
    let (mut sum, mut braking) = (0.0, 0);
    for &(d, s, row) in found.iter().take(listed) {
        let source = &sources[s];
        let e = episode_of(&source.data, row);
        let range = source.data.episodes[e].clone();
        let (name, seed) = &source.episodes[e];
        let accel = |r: usize| {
            let t = &source.data.targets[2 * r..2 * r + 2];
            scale.controls([t[0], t[1]]).accel_mps2
        };
        let later = (row + (2.0 / DT_SECS) as usize).min(range.end - 1);
        let frame = &source.data.observations[row * dim..(row + 1) * dim];
        sum += accel(row);
        braking += usize::from(accel(row) < 0.0);
        writeln!(
            out,
            "{d:>9.2}  {:<7}  {name:<17} {seed:>8} {:>6.1} {:>7.2} {:>11.2} {:>12.2}  {}",
            source.driver,
            (row - range.start) as f64 * DT_SECS,
            frame[speed_at],
            accel(row),
            accel(later),
            describe(frame, &layout, &world)
        )?;
    }
    writeln!(
        out,
        "\nmean label {:+.2} m/s², {} of {} braking",
        sum / listed.max(1) as f64,
        braking,
        listed
    )?;
    std::io::stdout().write_all(out.as_bytes())?;
    Ok(())
}
