//! The scenario in play: choosing it, its seed, and the memory gap the Gap slider sets.

use super::MemdriveApp;
use crate::gui::settings::ScenarioChoice;
use crate::learned;
use memdrive_sim::ScenarioSpec;
use std::path::Path;

impl MemdriveApp {
    /// Switches to scenario `choice`; on failure keeps everything and shows why.
    pub fn select_scenario(&mut self, choice: ScenarioChoice) {
        match resolve(&choice, &self.builtins) {
            Ok(spec) => {
                if let ScenarioChoice::File(path) = &choice
                    && !self.settings.scenario_files.contains(path)
                {
                    self.settings.scenario_files.push(path.clone());
                }
                self.settings.scenario = choice;
                self.view_step = None;
                // The gap chosen on the slider holds in every scenario that has one.
                let (spec, gap_error) = gapped(spec, &mut self.settings.gap_s);
                if let Some(text) = gap_error {
                    self.notify(text, true);
                }
                self.lab.restart_with(spec, self.settings.seed);
            }
            Err(e) => self.notify(format!("{e:#}"), true),
        }
    }

    /// Back to the scenario's own gap (drawn per seed in `memory_gap`): the scenario as chosen,
    /// without the Gap slider's value. Restarts the episode.
    pub fn gap_per_seed(&mut self) {
        self.settings.gap_s = None;
        self.select_scenario(self.settings.scenario.clone());
    }

    /// Restarts the memory-gap scenario with the pedestrian hidden for `gap_s` seconds; an
    /// impossible gap is shown as an error and changes nothing.
    pub fn set_gap(&mut self, gap_s: f64) {
        match with_gap(self.lab.spec(), Some(gap_s)) {
            Ok(spec) => {
                self.settings.gap_s = Some(gap_s);
                self.view_step = None;
                self.lab.restart_with(spec, self.settings.seed);
            }
            Err(e) => self.notify(format!("{e}"), true),
        }
    }

    /// Restarts with `seed`.
    pub fn set_seed(&mut self, seed: u64) {
        self.settings.seed = seed;
        self.view_step = None;
        self.lab.restart_with(self.lab.spec().clone(), seed);
    }

    /// Opens a scenario file (what "Open scenario file…" does).
    pub fn open_scenario(&mut self, path: &Path) {
        self.select_scenario(ScenarioChoice::File(path.to_owned()));
    }
}

/// `spec` with its memory gap fixed at `gap_s` seconds; unchanged without a gap to set or a
/// memory gap to set it in.
fn with_gap(spec: &ScenarioSpec, gap_s: Option<f64>) -> memdrive_sim::Result<ScenarioSpec> {
    match gap_s {
        Some(gap_s) if spec.memory_gap.is_some() => {
            let set =
                memdrive_sim::scenario::Override::parse(&format!("memory_gap.gap_s={gap_s}"))?;
            spec.with_overrides(&[set])
        }
        _ => Ok(spec.clone()),
    }
}

/// `spec` with the gap `gap_s` in force, or, if it cannot be (a scenario file whose range
/// refuses it), `spec` as it is, `gap_s` cleared and the message to show.
pub(super) fn gapped(
    spec: ScenarioSpec,
    gap_s: &mut Option<f64>,
) -> (ScenarioSpec, Option<String>) {
    match with_gap(&spec, *gap_s) {
        Ok(gapped) => (gapped, None),
        Err(e) => {
            *gap_s = None;
            (
                spec,
                Some(format!("{e:#}; the gap is drawn per seed instead")),
            )
        }
    }
}

/// The scenario a choice names, checked to suit the learned controllers' sensors.
pub(super) fn resolve(
    choice: &ScenarioChoice,
    builtins: &[ScenarioSpec],
) -> anyhow::Result<ScenarioSpec> {
    let spec = match choice {
        ScenarioChoice::Builtin(name) => builtins
            .iter()
            .find(|s| &s.name == name)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("no built-in scenario is called `{name}`"))?,
        ScenarioChoice::File(path) => ScenarioSpec::from_file(path)?,
    };
    learned::check_layout(&spec)?;
    Ok(spec)
}
