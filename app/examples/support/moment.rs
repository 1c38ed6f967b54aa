//! What the developer's stall tools share: the moment of an episode they look at, and how a
//! tool's errors end it.

use anyhow::{Context, Result, bail};
use memdrive::learned;
use memdrive_models::Model;
use memdrive_models::weights::ModelKind;
use memdrive_sim::ScenarioSpec;
use std::path::PathBuf;
use std::process::ExitCode;

/// A learned controller driving one episode up to a moment.
#[derive(clap::Args, Debug)]
pub struct MomentArgs {
    /// A learned controller: a kind (`gru`, `transformer`, ...) or other bundled weights
    /// (`transformer64`).
    #[arg(long)]
    pub controller: String,
    /// Its weights (default: the bundled ones).
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// A built-in scenario.
    #[arg(long)]
    pub scenario: String,
    /// The episode's seed.
    #[arg(long)]
    pub seed: u64,
    /// The moment looked at (s).
    #[arg(long)]
    pub at: f64,
}

impl MomentArgs {
    /// The controller's model and the scenario, or an error naming what is wrong.
    pub fn load(&self) -> Result<(Model, ScenarioSpec)> {
        let Some((kind, bundled)) = ModelKind::bundled_named(&self.controller) else {
            bail!(
                "unknown learned controller `{}`; valid: {}",
                self.controller,
                ModelKind::bundled_names().join(", ")
            );
        };
        let model = learned::load_shipped(bundled, kind, self.weights.as_deref())?;
        let spec = memdrive_sim::scenario::builtin(&self.scenario)
            .with_context(|| format!("no built-in scenario `{}`", self.scenario))??;
        learned::check_layout(&spec)?;
        if !self.at.is_finite() {
            bail!("--at must be a number of seconds");
        }
        Ok((model, spec))
    }
}

/// Runs a tool: its error printed, and a non-zero exit.
pub fn exit_code(result: Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
