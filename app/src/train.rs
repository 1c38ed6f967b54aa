//! `memdrive train`: fits a model, shows progress, writes the weight file and evaluates it on
//! held-out seeds.

use crate::eval::{self, Factory};
use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use memdrive_models::Model;
use memdrive_models::ModelKind;
use memdrive_models::train::{Learner, Monitor, Phase, RoundReport, TrainOptions, train};
use memdrive_sim::Pilot;
use std::ops::Range;
use std::path::Path;
use std::time::Instant;

/// A configuration of `kind` from a JSON file over its defaults, or the defaults; checked by
/// the kind's one validator when its learner is made, so that an error names the file.
fn read_config(kind: ModelKind, path: Option<&Path>) -> Result<Box<dyn Learner>> {
    let mut merged = kind.default_config();
    if let Some(path) = path {
        let bytes =
            memdrive_sim::files::read_bounded(path, memdrive_models::bounds::MAX_CONFIG_FILE_BYTES)
                .map_err(|problem| {
                    anyhow::anyhow!("{}: cannot read configuration: {problem}", path.display())
                })?;
        memdrive_models::weights::unique_json_keys(&bytes)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| anyhow::anyhow!("{}: not UTF-8 text", path.display()))?;
        let overrides: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
        let serde_json::Value::Object(overrides) = overrides else {
            anyhow::bail!("{}: a configuration is a JSON object", path.display());
        };
        if let serde_json::Value::Object(fields) = &mut merged {
            fields.extend(overrides);
        }
    }
    let shown = path.map_or_else(
        || format!("the default {kind} configuration"),
        |p| p.display().to_string(),
    );
    kind.learner(merged)
        .map_err(|why| anyhow::anyhow!("{shown}: {why}"))
}

/// Trains, saves to `out`, evaluates; prints text or JSON.
pub fn run(
    kind: ModelKind,
    config: Option<&Path>,
    out: &Path,
    options: &TrainOptions,
    eval_seeds: Range<u64>,
    json: bool,
) -> Result<()> {
    // Hours of training must not be lost to a typo in --out.
    memdrive_models::weights::check_writable(out)?;
    let specs = options.scenarios()?;
    // The evaluation after training: held-out seeds of the scenarios as they are, since `--set`
    // changes what is trained on, not what the result is judged on (the transformer's
    // `memory_gap` trains on short gaps only). Read now, before any training time is spent.
    let as_they_are = TrainOptions {
        scenario_overrides: Default::default(),
        ..options.clone()
    }
    .scenarios()?;
    let bar = ProgressBar::new(u64::from(options.rounds) + 1);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} training {msg} [{bar:30}] round {pos}/{len} {elapsed}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(kind.as_str().to_owned());
    let mut monitor = TimedRounds {
        bar: &bar,
        json,
        phase: None,
        seconds: [0.0; 3],
    };
    let mut learner = read_config(kind, config)?;
    let (file, reports) = train(learner.as_mut(), &specs, options, &mut monitor)?;
    bar.finish_and_clear();
    file.save(out)?;
    let model = Model::from_file(file, out)?;
    let factory: Factory = Box::new(move || Pilot::Sensing(model.controller()));
    let rows = eval::evaluate(&as_they_are, eval_seeds, &[factory], options.threads);
    if json {
        let value = serde_json::json!({ "model": kind.as_str(), "out": out, "rounds": reports, "results": rows });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!("wrote {}", out.display());
        print!("{}", eval::table(&rows));
    }
    Ok(())
}

/// Prints each round as it ends, with the seconds its phases took (collecting, fitting,
/// scoring): where a long run spends its time.
struct TimedRounds<'a> {
    bar: &'a ProgressBar,
    json: bool,
    /// The phase under way (0 collecting, 1 fitting, 2 scoring) and when it began.
    phase: Option<(usize, Instant)>,
    seconds: [f64; 3],
}

impl TimedRounds<'_> {
    fn close_phase(&mut self) {
        if let Some((i, began)) = self.phase.take() {
            self.seconds[i] += began.elapsed().as_secs_f64();
        }
    }
}

impl Monitor for TimedRounds<'_> {
    fn phase(&mut self, _round: u32, phase: Phase) {
        self.close_phase();
        let i = match phase {
            Phase::Collecting { .. } => 0,
            Phase::Fitting => 1,
            Phase::Scoring => 2,
        };
        self.phase = Some((i, Instant::now()));
    }

    fn round(&mut self, r: &RoundReport) {
        self.close_phase();
        let [collect, fit, score] = std::mem::take(&mut self.seconds);
        self.bar.inc(1);
        if self.json {
            return;
        }
        let line = format!(
            "round {} ({}): {} samples, loss {:.5} (predicting the mean action: {:.5}); \
             {collect:.1} s collecting, {fit:.1} s fitting, {score:.1} s scoring",
            r.round,
            if r.round == 0 {
                "behaviour cloning"
            } else {
                "DAgger"
            },
            r.samples,
            r.loss,
            r.baseline_loss
        );
        // The bar prints above itself on a terminal and not at all elsewhere.
        if self.bar.is_hidden() {
            println!("{line}");
        } else {
            self.bar.println(line);
        }
    }
}
