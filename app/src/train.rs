//! `memdrive train`: fits a model, shows progress, writes the weight file and evaluates it on
//! held-out seeds.

use crate::eval::{self, Factory};
use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use memdrive_models::Model;
use memdrive_models::train::{RoundReport, TrainOptions, train_gru, train_rbf, train_transformer};
use memdrive_models::weights::ModelKind;
use memdrive_sim::Controller;
use memdrive_sim::scenario::builtins;
use std::ops::Range;
use std::path::Path;

/// A model configuration from a JSON file over the defaults, or the defaults.
fn read_config<C: Default + serde::Serialize + serde::de::DeserializeOwned>(
    path: Option<&Path>,
) -> Result<C> {
    let Some(path) = path else {
        return Ok(C::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let overrides: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
    let serde_json::Value::Object(overrides) = overrides else {
        anyhow::bail!("{}: a configuration is a JSON object", path.display());
    };
    let mut merged = serde_json::to_value(C::default())?;
    if let serde_json::Value::Object(fields) = &mut merged {
        fields.extend(overrides);
    }
    serde_json::from_value(merged)
        .with_context(|| format!("{}: not a valid configuration", path.display()))
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
    let specs = builtins()?;
    let bar = ProgressBar::new(u64::from(options.rounds) + 1);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} training {msg} [{bar:30}] round {pos}/{len} {elapsed}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(kind.as_str().to_owned());
    let mut on_round = |r: &RoundReport| {
        bar.inc(1);
        if !json {
            let line = format!(
                "round {} ({}): {} samples, loss {:.5} (predicting the mean action: {:.5})",
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
            if bar.is_hidden() {
                println!("{line}");
            } else {
                bar.println(line);
            }
        }
    };
    let (file, reports) = match kind {
        ModelKind::Rbf => train_rbf(&read_config(config)?, &specs, options, &mut on_round)?,
        ModelKind::Gru => train_gru(&read_config(config)?, &specs, options, &mut on_round)?,
        ModelKind::Transformer => {
            train_transformer(&read_config(config)?, &specs, options, &mut on_round)?
        }
    };
    bar.finish_and_clear();
    file.save(out)?;
    let model = Model::from_file(file, out)?;
    let factory: Factory = Box::new(move || -> Box<dyn Controller + Send> { model.controller() });
    let rows = eval::evaluate(&specs, eval_seeds, &[factory], options.threads);
    if json {
        let value = serde_json::json!({ "model": kind.as_str(), "out": out, "rounds": reports, "results": rows });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!("wrote {}", out.display());
        print!("{}", eval::table(&rows));
    }
    Ok(())
}
