//! Argument parsing and the subcommands `run`, `eval`, `bench` and `scenarios`.

mod args;
mod label;

pub use args::Cli;
use args::{Command, ProbeArg};
use label::learned_kind;
pub use label::{Label, entry};

use crate::eval::Factory;
use crate::{bench, eval, learned, memory, train};
use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use memdrive_models::train::{MAX_EPISODES_PER_SCENARIO, MAX_ROUNDS, TrainOptions};
use memdrive_models::weights::ModelKind;
use memdrive_sim::parallel::MAX_THREADS;
use memdrive_sim::run_episode;
use memdrive_sim::scenario::{Override, ScenarioSpec, all_builtins};

use std::ops::Range;
use std::path::PathBuf;

/// Largest lag `memory` measures (60 s).
pub const MAX_LAGS: usize = 600;
/// Most steps of the white-noise probe.
pub const MAX_NOISE_STEPS: usize = 100_000;
/// Most steps × (lags + 1) of a memory curve: the lagged targets it holds (4,000,000 rows of
/// 40 numbers, 640 MB).
pub const MAX_LAGGED_ROWS: usize = 4_000_000;
/// Most driving episodes `memory` records.
pub const MAX_MEMORY_EPISODES: u64 = 1_000;

/// A parser of whole numbers from `low` to `high` for clap, with a message that says so (and
/// that a negative number is one, not an unknown flag).
fn count_in<T>(low: u64, high: u64) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync
where
    T: TryFrom<u64>,
{
    move |text: &str| {
        let text = text.trim();
        let expected = format!("a whole number from {low} to {high}");
        let value: u64 = if text.starts_with('-') {
            return Err(format!("expected {expected}, got a negative number {text}"));
        } else {
            text.parse()
                .map_err(|_| format!("expected {expected}, got `{text}`"))?
        };
        if !(low..=high).contains(&value) {
            return Err(format!("expected {expected}, got {value}"));
        }
        T::try_from(value).map_err(|_| format!("{value} is too large for this machine"))
    }
}

/// The controllers that drive without weights: the privileged expert and its baselines.
pub const BASELINES: [&str; 3] = ["expert", "reactive", "cruise"];

/// Every controller available from the command line: the baselines, then every learned kind,
/// then the other shipped weights (`transformer64`).
pub fn controllers() -> Vec<&'static str> {
    BASELINES
        .into_iter()
        .chain(ModelKind::bundled_names())
        .collect()
}

/// `memory`'s default controllers: every learned kind.
static LEARNED_DEFAULT: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| ModelKind::ids().join(","));

/// `horizon`'s default controllers: the expert, the memoryless reactive expert, every learned
/// kind, and the other shipped weights (the 64-frame transformer, whose cliff is further out).
static HORIZON_DEFAULT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!("expert,reactive,{}", ModelKind::bundled_names().join(","))
});

/// The learned kinds `train --model` takes, each with its summary for `--help`.
fn model_kinds() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(
        ModelKind::all()
            .iter()
            .map(|k| clap::builder::PossibleValue::new(k.id()).help(k.summary())),
    )
}

/// True when command-line label `text` names a learned controller (a malformed one is not;
/// its error comes when it is read for good).
fn is_learned(text: &str) -> bool {
    Label::parse(text, None).is_ok_and(|l| learned_kind(l.kind).is_some())
}

/// Scenarios from a comma-separated list of names/paths, or `all`, each with the `--set`
/// overrides applied.
pub fn scenarios(list: &str, set: &[String]) -> Result<Vec<ScenarioSpec>> {
    let overrides = overrides(set)?;
    let specs = if list == "all" {
        all_builtins()?
    } else {
        list.split(',')
            .map(|name| ScenarioSpec::load(name.trim()))
            .collect::<std::result::Result<_, _>>()?
    };
    specs
        .iter()
        .map(|spec| spec.with_overrides(&overrides).map_err(Into::into))
        .collect()
}

/// One scenario by name or path, with the `--set` overrides applied.
pub fn scenario(name: &str, set: &[String]) -> Result<ScenarioSpec> {
    Ok(ScenarioSpec::load(name)?.with_overrides(&overrides(set)?)?)
}

/// Parses `--set` items.
fn overrides(set: &[String]) -> Result<Vec<Override>> {
    Ok(set
        .iter()
        .map(|item| Override::parse(item))
        .collect::<std::result::Result<_, _>>()?)
}

/// Parses `A..B`.
pub fn seed_range(text: &str) -> Result<Range<u64>> {
    let (a, b) = text
        .split_once("..")
        .with_context(|| format!("seeds must be written A..B (e.g. 0..200), got `{text}`"))?;
    let parse = |s: &str| {
        s.trim()
            .parse::<u64>()
            .with_context(|| format!("seeds must be written A..B with whole numbers, got `{text}`"))
    };
    let (a, b) = (parse(a)?, parse(b)?);
    if a >= b {
        bail!("seed range `{text}` is empty: A must be less than B");
    }
    Ok(a..b)
}

/// Parses `NAME=N,NAME=N` (episodes per round of named scenarios); `None` gives none.
pub fn scenario_counts(text: Option<&str>) -> Result<std::collections::BTreeMap<String, u64>> {
    let mut counts = std::collections::BTreeMap::new();
    for item in text
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.trim().is_empty())
    {
        let (name, n) = item
            .split_once('=')
            .with_context(|| format!("--scenario-episodes takes NAME=N items, got `{item}`"))?;
        let n: u64 = count_in::<u64>(1, MAX_EPISODES_PER_SCENARIO)(n)
            .map_err(|why| anyhow::anyhow!("--scenario-episodes: `{}`: {why}", item.trim()))?;
        if counts.insert(name.trim().to_owned(), n).is_some() {
            bail!("--scenario-episodes names `{}` twice", name.trim());
        }
    }
    Ok(counts)
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> Result<()> {
    let Some(command) = cli.command else {
        return crate::gui::run();
    };
    match command {
        Command::Run {
            scenario,
            set,
            seed,
            controller: name,
            weights,
            json,
        } => {
            if name.contains(',') {
                bail!("run drives one controller, got `{name}`; compare several with eval");
            }
            let spec = self::scenario(&scenario, &set)?;
            let entry = entry(&name, weights.as_deref())?;
            if learned_kind(&entry.kind).is_some() {
                learned::check_layout(&spec)?;
            }
            let mut driver = (entry.factory)();
            let mut result = run_episode(&spec, seed, &mut driver);
            result.controller = entry.label;
            if json {
                println!("{}", serde_json::to_string_pretty(&result)?);
            } else {
                let ttc = result
                    .min_ttc_s
                    .map_or_else(|| "none".to_owned(), |t| format!("{t:.2} s"));
                println!(
                    "{} seed {} with {}: {} after {} steps ({:.1} s)\n  progress {:.1} m, mean speed {:.2} m/s, min TTC {}, mean |jerk| {:.2} m/s³\n  trajectory hash {}",
                    result.scenario,
                    result.seed,
                    result.controller,
                    result.outcome.as_str(),
                    result.steps,
                    f64::from(result.steps) * memdrive_sim::world::DT_SECS,
                    result.progress_m,
                    result.mean_speed_mps,
                    ttc,
                    result.mean_abs_jerk,
                    result.trajectory_hash
                );
            }
            Ok(())
        }
        Command::Eval {
            scenario,
            set,
            seeds,
            controller: names,
            weights,
            threads,
            json,
        } => {
            let specs = scenarios(&scenario, &set)?;
            let seeds = seed_range(&seeds)?;
            let names: Vec<&str> = names.split(',').map(str::trim).collect();
            let learned = names.iter().filter(|n| is_learned(n)).count();
            if learned > 0 {
                for spec in &specs {
                    learned::check_layout(spec)?;
                }
            }
            if weights.is_some() && learned != 1 {
                bail!(
                    "--weights needs exactly one learned controller in --controller, got {learned}"
                );
            }
            let entries: Vec<crate::horizon::Entry> = names
                .iter()
                .map(|n| {
                    let learned = is_learned(n);
                    entry(n, weights.as_deref().filter(|_| learned))
                })
                .collect::<Result<_>>()?;
            let labels: Vec<String> = entries.iter().map(|e| e.label.clone()).collect();
            let factories: Vec<Factory> = entries.into_iter().map(|e| e.factory).collect();
            let mut rows = eval::evaluate(&specs, seeds, &factories, threads);
            // Rows come in (controller, scenario) order; name them as given (`gru=my.safetensors`).
            for (i, row) in rows.iter_mut().enumerate() {
                row.controller.clone_from(&labels[i / specs.len()]);
            }
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({ "results": rows }))?
                );
            } else {
                print!("{}", eval::table(&rows));
            }
            Ok(())
        }
        Command::Train {
            model,
            out,
            seed,
            rounds,
            episodes,
            scenario_episodes,
            expert_driven,
            set,
            eval_seeds,
            config,
            threads,
            json,
        } => {
            let eval_seeds = seed_range(&eval_seeds)?;
            let mut scenario_overrides: std::collections::BTreeMap<String, Vec<Override>> =
                std::collections::BTreeMap::new();
            for item in &set {
                let (name, change) = item.split_once(':').with_context(|| {
                    format!("--set takes NAME:PATH=VALUE when training (the scenario's name first), got `{item}`")
                })?;
                scenario_overrides
                    .entry(name.trim().to_owned())
                    .or_default()
                    .push(Override::parse(change)?);
            }
            let options = TrainOptions {
                seed,
                rounds,
                episodes_per_scenario: episodes,
                scenario_episodes: scenario_counts(scenario_episodes.as_deref())?,
                expert_driven: expert_driven.into_iter().collect(),
                scenario_overrides,
                threads,
            };
            train::run(
                ModelKind::parse(&model).map_err(anyhow::Error::msg)?,
                config.as_deref(),
                &out,
                &options,
                eval_seeds,
                json,
            )
        }
        Command::Memory {
            controller: names,
            weights,
            scenario,
            set,
            episodes,
            probe,
            lags,
            steps,
            threads,
            json,
        } => {
            let names: Vec<&str> = names.split(',').map(str::trim).collect();
            if weights.is_some() && names.len() != 1 {
                bail!(
                    "--weights needs exactly one controller in --controller, got {}",
                    names.len()
                );
            }
            if steps.saturating_mul(lags + 1) > MAX_LAGGED_ROWS {
                bail!(
                    "--steps × (--lags + 1) is {}, more than {MAX_LAGGED_ROWS}: fewer steps or lags",
                    steps.saturating_mul(lags + 1)
                );
            }
            if steps <= lags + 10 {
                bail!("--steps must exceed --lags by more than 10");
            }
            let models = names
                .iter()
                .map(|n| {
                    let label = Label::parse(n, weights.as_deref())?;
                    memory::kind(label.kind)?;
                    if label.window.is_some() {
                        bail!("`{n}`: memory measures a network as trained, without `@K`");
                    }
                    let model = label.model()?.context("a learned controller")?;
                    Ok((label.name(n), model))
                })
                .collect::<Result<Vec<_>>>()?;
            let spec = self::scenario(&scenario, &set)?;
            learned::check_layout(&spec)?;
            let options = memory::Options {
                probe: match probe {
                    ProbeArg::Noise => memdrive_models::memory::Probe::Noise,
                    ProbeArg::Driving => memdrive_models::memory::Probe::Driving,
                },
                episodes,
                lags,
                noise_steps: steps,
                threads,
                ..memory::Options::new(spec)
            };
            let results = memory::run(&models, &options)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({ "controllers": results }))?
                );
            } else {
                print!("{}", memory::text(&results));
            }
            Ok(())
        }
        Command::Horizon {
            scenario,
            set,
            controller: names,
            gaps,
            seeds,
            transplant,
            threads,
            json,
        } => {
            let spec = self::scenario(&scenario, &set)?;
            let gaps = match gaps {
                Some(text) => crate::horizon::parse_gaps(&text)?,
                None => crate::horizon::DEFAULT_GAPS.to_vec(),
            };
            let seeds = seed_range(&seeds)?;
            let entries: Vec<crate::horizon::Entry> = names
                .split(',')
                .map(str::trim)
                .map(|n| entry(n, None))
                .collect::<Result<_>>()?;
            if entries.iter().any(|e| learned_kind(&e.kind).is_some()) {
                learned::check_layout(&spec)?;
            }
            let mut report = crate::horizon::measure(
                &spec,
                &gaps,
                seeds.clone(),
                &entries,
                threads,
                &mut || {},
            )?;
            if transplant {
                crate::horizon::add_transplants(&mut report, &spec, seeds, &entries, threads)?;
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", crate::horizon::text(&report));
            }
            Ok(())
        }
        Command::Bench {
            gui: true,
            frames,
            json,
        } => {
            let report = bench::gui(frames.unwrap_or(600))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", bench::gui_text(&report));
            }
            Ok(())
        }
        Command::Bench {
            gui: false,
            frames,
            json,
        } => {
            if frames.is_some() {
                bail!("--frames applies to `bench --gui`, which times app frames");
            }
            let report = bench::run()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", bench::text(&report));
            }
            Ok(())
        }
        Command::InternalErrorTest => panic!("deliberate panic of the internal-error test"),
        Command::Scenarios => {
            for spec in all_builtins()? {
                println!("{:<18} {}", spec.name, spec.description);
            }
            Ok(())
        }
    }
}
