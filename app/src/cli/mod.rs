//! Argument parsing and the subcommands `run`, `eval`, `bench` and `scenarios`.

mod args;

pub use args::Cli;
use args::{Command, ProbeArg};

use crate::eval::Factory;
use crate::{bench, eval, learned, memory, train};
use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use memdrive_models::train::{MAX_EPISODES_PER_SCENARIO, MAX_ROUNDS, TrainOptions};
use memdrive_models::weights::ModelKind;
use memdrive_sim::parallel::MAX_THREADS;
use memdrive_sim::scenario::{Override, ScenarioSpec, all_builtins};
use memdrive_sim::{Cruise, Expert, Pilot, run_episode};

use std::ops::Range;
use std::path::{Path, PathBuf};

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

/// Every controller available from the command line: the baselines, then every learned kind.
pub fn controllers() -> Vec<&'static str> {
    BASELINES.into_iter().chain(ModelKind::ids()).collect()
}

/// `memory`'s default controllers: every learned kind.
static LEARNED_DEFAULT: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| ModelKind::ids().join(","));

/// `horizon`'s default controllers: the expert, the memoryless reactive expert, every learned
/// kind.
static HORIZON_DEFAULT: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("expert,reactive,{}", *LEARNED_DEFAULT));

/// The learned kinds `train --model` takes, each with its summary for `--help`.
fn model_kinds() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(
        ModelKind::all()
            .iter()
            .map(|k| clap::builder::PossibleValue::new(k.id()).help(k.summary())),
    )
}

/// The controller's name in a command-line label (`kind@K:ABLATION=FILE`).
fn label_kind(label: &str) -> &str {
    label
        .split(['=', '@', ':'])
        .next()
        .unwrap_or_default()
        .trim()
}

/// The learned kind called `name`, if it is one.
fn learned_kind(name: &str) -> Option<ModelKind> {
    ModelKind::from_id(name)
}

/// A controller as written on the command line: `kind`, then `@K` to shrink a windowed
/// network's window to K frames, `:ABLATION` to switch part of its memory off, `=FILE` for its
/// own weights (in that order: `transformer@8=FILE`, `hebbian:no-plasticity=FILE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Label<'a> {
    /// The controller's name.
    pub kind: &'a str,
    /// The window shrunk to this many frames.
    pub window: Option<usize>,
    /// The ablation applied.
    pub ablation: Option<&'a str>,
    /// Its weight file (`=FILE`, or `--weights` for a single learned controller).
    pub file: Option<&'a Path>,
}

impl<'a> Label<'a> {
    /// Splits `label`; `weights` is the `--weights` option. An error names the part that is
    /// malformed.
    pub fn parse(label: &'a str, weights: Option<&'a Path>) -> Result<Self> {
        let (head, file) = match label.split_once('=') {
            Some((head, file)) => {
                if weights.is_some() {
                    bail!("`{label}` names its weights; do not also give --weights");
                }
                if file.trim().is_empty() {
                    bail!("`{label}`: the file name after `=` is empty");
                }
                (head.trim(), Some(Path::new(file.trim())))
            }
            None => (label.trim(), weights),
        };
        let (head, ablation) = match head.split_once(':') {
            Some((head, ablation)) => {
                if ablation.trim().is_empty() {
                    bail!("`{label}`: the ablation after `:` is empty");
                }
                (head.trim(), Some(ablation.trim()))
            }
            None => (head, None),
        };
        let (kind, window) = match head.split_once('@') {
            Some((kind, k)) => {
                let digits = !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit());
                let k: usize = k.parse().ok().filter(|_| digits).ok_or_else(|| {
                    anyhow::anyhow!(
                        "`{label}`: the window after `@` must be a whole number of frames"
                    )
                })?;
                (kind.trim(), Some(k))
            }
            None => (head, None),
        };
        if learned_kind(kind).is_none() && !BASELINES.contains(&kind) {
            bail!(
                "unknown controller `{kind}`; valid controllers: {}",
                controllers().join(", ")
            );
        }
        if learned_kind(kind).is_none() {
            let what = if file.is_some() && label.contains('=') {
                Some("weights")
            } else if file.is_some() {
                bail!("--weights applies to a learned controller, not `{kind}`");
            } else if ablation.is_some() {
                Some("an ablation (`:`)")
            } else {
                None
            };
            if let Some(what) = what {
                bail!(
                    "`{label}`: only a learned controller ({}) takes {what}",
                    ModelKind::ids().join(", ")
                );
            }
        }
        Ok(Self {
            kind,
            window,
            ablation,
            file,
        })
    }

    /// The label as rows and curves are named: its parts without the spaces around them
    /// (`hebbian :no-plasticity` is `hebbian:no-plasticity`); a file given with `=` stays in
    /// it, one given with `--weights` does not.
    pub fn name(&self, written: &str) -> String {
        let mut name = self.kind.to_owned();
        if let Some(k) = self.window {
            name += &format!("@{k}");
        }
        if let Some(a) = self.ablation {
            name += &format!(":{a}");
        }
        if let (Some(file), true) = (self.file, written.contains('=')) {
            name += &format!("={}", file.display());
        }
        name
    }

    /// The learned model it names, loaded (bundled weights unless a file is given), with its
    /// ablation applied; an error names an unknown ablation and those the kind offers.
    pub fn model(&self) -> Result<Option<memdrive_models::Model>> {
        let Some(kind) = learned_kind(self.kind) else {
            return Ok(None);
        };
        let model = learned::load(kind, self.file)?;
        Ok(Some(match self.ablation {
            Some(id) => model.ablated(id)?,
            None => model,
        }))
    }
}

/// A maker of fresh instances of the controller `label` names and, for a learned controller, a
/// maker of the same controller with its memory open, for the transplant check; or an error
/// listing the valid names. Everything that can fail (finding, reading, checking weights)
/// happens here, once.
fn factories(label: &Label<'_>) -> Result<(Factory, Option<crate::horizon::MemoryFactory>)> {
    let windowed = || {
        ModelKind::all()
            .iter()
            .filter(|k| k.has_window())
            .map(|k| k.id())
            .collect::<Vec<_>>()
            .join(" or ")
    };
    let name = label.kind;
    if label.window.is_some() && !learned_kind(name).is_some_and(|k| k.has_window()) {
        bail!("a window (`@K`) applies to a {}, not `{name}`", windowed());
    }
    if let Some(model) = label.model()? {
        let window = label.window;
        // Checked once here; every instance is then made the same way.
        model.controller_with_window(window)?;
        let fresh =
            move |model: &memdrive_models::model::Model| learned::fresh_controller(model, window);
        let driving = model.clone();
        return Ok((
            Box::new(move || Pilot::Sensing(fresh(&driving))),
            Some(Box::new(move || fresh(&model))),
        ));
    }
    let factory: Factory = match name {
        "expert" => Box::new(|| Pilot::Privileged(Box::new(Expert::new()))),
        "reactive" => Box::new(|| Pilot::Privileged(Box::new(Expert::reactive()))),
        "cruise" => Box::new(|| Pilot::Sensing(Box::new(Cruise::new(12.0)))),
        other => bail!(
            "unknown controller `{other}`; valid controllers: {}",
            controllers().join(", ")
        ),
    };
    Ok((factory, None))
}

/// A controller as named on the command line (see [`Label`]); `weights` is the `--weights`
/// option, for a single learned controller.
pub fn entry(label: &str, weights: Option<&Path>) -> Result<crate::horizon::Entry> {
    let parsed = Label::parse(label, weights)?;
    let (factory, memory_factory) =
        factories(&parsed).map_err(|e| anyhow::anyhow!("`{label}`: {e:#}"))?;
    let weights = match parsed.file {
        Some(f) => f.display().to_string(),
        None if learned_kind(parsed.kind).is_some() => "bundled".to_owned(),
        None => "none".to_owned(),
    };
    Ok(crate::horizon::Entry {
        label: parsed.name(label),
        kind: parsed.kind.to_owned(),
        weights,
        factory,
        memory_factory,
    })
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
            let learned = names
                .iter()
                .filter(|n| learned_kind(label_kind(n)).is_some())
                .count();
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
                    let learned = learned_kind(label_kind(n)).is_some();
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
            eval_seeds,
            config,
            threads,
            json,
        } => {
            let eval_seeds = seed_range(&eval_seeds)?;
            let options = TrainOptions {
                seed,
                rounds,
                episodes_per_scenario: episodes,
                scenario_episodes: scenario_counts(scenario_episodes.as_deref())?,
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
