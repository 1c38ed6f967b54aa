//! The command line's arguments, as clap parses them.

use super::*;
use std::sync::LazyLock;

/// The ablations every learned kind offers, as written on the command line.
fn ablations() -> String {
    let all: Vec<String> = ModelKind::all()
        .iter()
        .flat_map(|k| {
            k.ablations()
                .iter()
                .map(move |a| format!("`{}:{}` ({})", k.id(), a.id, a.summary))
        })
        .collect();
    if all.is_empty() {
        "none".to_owned()
    } else {
        all.join(", ")
    }
}

/// `run --controller`'s help, naming every controller.
static RUN_HELP: LazyLock<String> = LazyLock::new(|| {
    format!(
        "Controller that drives: {} (a learned one with its bundled weights, or `kind=FILE`; a transformer `transformer@K` with its window shrunk to K frames; part of a memory switched off as `kind:ABLATION`, ablations: {})",
        controllers().join(", "),
        ablations()
    )
});

/// `eval` and `horizon`'s `--controller` help, naming every controller.
static EVAL_HELP: LazyLock<String> = LazyLock::new(|| {
    format!(
        "Comma-separated controllers: {} (a learned one as `kind` with its bundled weights or `kind=FILE`, so two files of one kind can be compared; `transformer@K` with its window shrunk to K frames; `kind:ABLATION` with part of its memory switched off, ablations: {})",
        controllers().join(", "),
        ablations()
    )
});

/// `memory --controller`'s help, naming every learned kind.
static MEMORY_HELP: LazyLock<String> = LazyLock::new(|| {
    format!(
        "Comma-separated learned controllers: {} (each `kind`, `kind=FILE` or `kind:ABLATION`; ablations: {})",
        ModelKind::bundled_names().join(", "),
        ablations()
    )
});

/// What a neural network remembers, and what it forgets: a driving laboratory.
///
/// Without a subcommand, opens the desktop app.
#[derive(Debug, Parser)]
#[command(name = "memdrive", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub(super) command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub(super) enum Command {
    /// Run one episode and print its outcome and metrics.
    Run {
        /// Built-in scenario name or path to a scenario file.
        #[arg(long)]
        scenario: String,
        /// Change a field of the scenario: `--set PATH=VALUE`, e.g. `--set duration_s=20` or
        /// `--set pedestrians.0.speed_mps=[2,3]`; repeatable, checked like the file.
        #[arg(long = "set", value_name = "PATH=VALUE", allow_hyphen_values = true)]
        set: Vec<String>,
        /// Seed of the episode.
        #[arg(long, default_value_t = 0, allow_hyphen_values = true, value_parser = count_in::<u64>(0, u64::MAX))]
        seed: u64,
        /// Controller that drives.
        #[arg(long, default_value = "expert", help = RUN_HELP.as_str())]
        controller: String,
        /// Weight file for a learned controller (default: the bundled weights).
        #[arg(long)]
        weights: Option<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Run many seeds of several scenarios and controllers and tabulate the outcomes.
    Eval {
        /// Comma-separated scenario names or files, or `all` for every built-in (`memory_gap`
        /// included).
        #[arg(long, default_value = "all")]
        scenario: String,
        /// Change a field of the scenario: `--set PATH=VALUE`, e.g. `--set duration_s=20` or
        /// `--set pedestrians.0.speed_mps=[2,3]`; repeatable, checked like the file.
        #[arg(long = "set", value_name = "PATH=VALUE", allow_hyphen_values = true)]
        set: Vec<String>,
        /// Seeds `A..B` (B excluded). Episodes are run and tallied in blocks, so a long range
        /// takes time but no more memory.
        #[arg(long, default_value = "0..100", allow_hyphen_values = true)]
        seeds: String,
        /// Comma-separated controllers.
        #[arg(long, default_value = "expert", help = EVAL_HELP.as_str())]
        controller: String,
        /// Weight file for the (single) learned controller (default: the bundled weights).
        #[arg(long)]
        weights: Option<PathBuf>,
        /// Worker threads (default: all cores; at most 256). Results do not depend on it.
        #[arg(long, allow_hyphen_values = true, value_parser = count_in::<usize>(1, MAX_THREADS as u64))]
        threads: Option<usize>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Train a learned controller by imitation (behaviour cloning, then DAgger rounds).
    Train {
        /// Which network.
        #[arg(long, value_parser = model_kinds())]
        model: String,
        /// Where to write the weight file (safetensors).
        #[arg(long)]
        out: PathBuf,
        /// Seed of initialisation (training episodes use seeds from 1,000,000 up).
        #[arg(long, default_value_t = 0, allow_hyphen_values = true, value_parser = count_in::<u64>(0, u64::MAX))]
        seed: u64,
        /// DAgger rounds after behaviour cloning (at most 99).
        #[arg(long, default_value_t = 3, allow_hyphen_values = true, value_parser = count_in::<u32>(0, u64::from(MAX_ROUNDS)))]
        rounds: u32,
        /// Training episodes per scenario per round (at most 10,000; at most 10,000 in the
        /// whole run).
        #[arg(long, default_value_t = 40, allow_hyphen_values = true, value_parser = count_in::<u64>(1, MAX_EPISODES_PER_SCENARIO))]
        episodes: u64,
        /// Episodes per round for named scenarios instead of --episodes, e.g.
        /// `mixed_traffic=120,occluded_crossing=80`; naming the experiment `memory_gap` adds it
        /// to the scenarios trained on.
        #[arg(long, value_name = "NAME=N,...")]
        scenario_episodes: Option<String>,
        /// Comma-separated scenarios the expert drives in every round, DAgger rounds included
        /// (their states are the expert's own), e.g. `memory_gap`.
        #[arg(long, value_name = "NAME,...", value_delimiter = ',')]
        expert_driven: Vec<String>,
        /// Change a field of one scenario trained on: `--set NAME:PATH=VALUE`, e.g.
        /// `--set memory_gap:memory_gap.gap_s=[0.2,1.6]`; repeatable, checked like the file.
        /// The evaluation after training uses the scenarios as they are.
        #[arg(long = "set", value_name = "NAME:PATH=VALUE")]
        set: Vec<String>,
        /// Held-out seeds `A..B` for the final evaluation table.
        #[arg(long, default_value = "0..50", allow_hyphen_values = true)]
        eval_seeds: String,
        /// The model's configuration as a JSON file (the `config` a weight file stores);
        /// fields left out keep their defaults.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Worker threads (default: all cores; at most 256). Results do not depend on it.
        #[arg(long, allow_hyphen_values = true, value_parser = count_in::<usize>(1, MAX_THREADS as u64))]
        threads: Option<usize>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Measure what the learned controllers remember: memory curves (R² by lag and capacity),
    /// the belief probe of hidden pedestrians, and influence by lag.
    Memory {
        /// Comma-separated learned controllers.
        #[arg(long, default_value = LEARNED_DEFAULT.as_str(), help = MEMORY_HELP.as_str())]
        controller: String,
        /// Weight file for the (single) learned controller (default: the bundled weights).
        #[arg(long)]
        weights: Option<PathBuf>,
        /// Scenario of the driving episodes (the belief probe's, and the driving probe's).
        #[arg(long, default_value = "occluded_crossing")]
        scenario: String,
        /// Change a field of the scenario: `--set PATH=VALUE`, e.g. `--set duration_s=20` or
        /// `--set pedestrians.0.speed_mps=[2,3]`; repeatable, checked like the file.
        #[arg(long = "set", value_name = "PATH=VALUE", allow_hyphen_values = true)]
        set: Vec<String>,
        /// Driving episodes (2 to 1,000).
        #[arg(long, default_value_t = 40, allow_hyphen_values = true, value_parser = count_in::<u64>(2, MAX_MEMORY_EPISODES))]
        episodes: u64,
        /// Input regime of the memory curve and influence: `noise` (frames drawn independently
        /// from real driving) or `driving` (real episodes).
        #[arg(long, value_enum, default_value = "noise")]
        probe: ProbeArg,
        /// Largest lag L in steps of 0.1 s (1 to 600).
        #[arg(long, default_value_t = 40, allow_hyphen_values = true, value_parser = count_in::<usize>(1, MAX_LAGS as u64))]
        lags: usize,
        /// Steps of the white-noise probe (at most 100,000; steps × (lags + 1) at most
        /// 4,000,000).
        #[arg(long, default_value_t = 10_000, allow_hyphen_values = true, value_parser = count_in::<usize>(1, MAX_NOISE_STEPS as u64))]
        steps: usize,
        /// Worker threads for the driving episodes (default: all cores; at most 256). Results do
        /// not depend on it.
        #[arg(long, allow_hyphen_values = true, value_parser = count_in::<usize>(1, MAX_THREADS as u64))]
        threads: Option<usize>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The behavioural forgetting curve: accuracy of the right call against the memory gap,
    /// per controller, and the longest gap each bridges (its memory horizon).
    Horizon {
        /// A scenario with a memory gap.
        #[arg(long, default_value = "memory_gap")]
        scenario: String,
        /// Change a field of the scenario: `--set PATH=VALUE`; repeatable.
        #[arg(long = "set", value_name = "PATH=VALUE", allow_hyphen_values = true)]
        set: Vec<String>,
        /// Comma-separated controllers, each `kind` (bundled weights) or `kind=FILE`.
        #[arg(long, default_value = HORIZON_DEFAULT.as_str(), help = EVAL_HELP.as_str())]
        controller: String,
        /// Comma-separated gaps (s) [default: 0.5,1,1.5,2,3,4,5,6,8].
        #[arg(long, allow_hyphen_values = true)]
        gaps: Option<String>,
        /// Seeds `A..B` per gap (B excluded; at most 100,000).
        #[arg(long, default_value = "0..200", allow_hyphen_values = true)]
        seeds: String,
        /// Also check that memory causes the decision: at the barrier's lifting, swap each
        /// learned controller's memory between the run with the hazard and the run without,
        /// and count how often the decision follows the memory.
        #[arg(long)]
        transplant: bool,
        /// Worker threads (default: all cores; at most 256). Results do not depend on it.
        #[arg(long, allow_hyphen_values = true, value_parser = count_in::<usize>(1, MAX_THREADS as u64))]
        threads: Option<usize>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Measure simulator throughput (single thread, release build recommended).
    Bench {
        /// Measure the desktop app instead: frames of the real app state driven headless.
        #[arg(long)]
        gui: bool,
        /// Frames to measure with `--gui` (1 to 100,000) [default: 600].
        #[arg(long, allow_hyphen_values = true, value_parser = count_in::<usize>(1, 100_000))]
        frames: Option<usize>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List the built-in scenarios.
    Scenarios,
    /// Panics on purpose, so that the tests can check how an internal error is reported.
    #[command(hide = true)]
    InternalErrorTest,
}

/// Input regimes of `memory`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub(super) enum ProbeArg {
    /// Frames drawn independently at every step from real driving frames.
    Noise,
    /// Real episodes driven by the controller.
    Driving,
}
