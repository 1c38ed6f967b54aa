//! A controller as named on the command line (`kind@K:ABLATION=FILE`), and the makers of its
//! fresh instances.

use super::{BASELINES, controllers};
use crate::eval::Factory;
use crate::learned;
use anyhow::{Result, bail};
use memdrive_models::weights::ModelKind;
use memdrive_sim::{Cruise, Expert, Pilot};
use std::path::Path;

/// The learned kind called `name`, if it is one: a kind's id, or the name of other weights
/// shipped with it (`transformer64`).
pub(super) fn learned_kind(name: &str) -> Option<ModelKind> {
    ModelKind::bundled_named(name).map(|(kind, _)| kind)
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
        let Some((kind, bundled)) = ModelKind::bundled_named(self.kind) else {
            return Ok(None);
        };
        let model = learned::load_shipped(bundled, kind, self.file)?;
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
fn factories(
    label: &Label<'_>,
) -> Result<(
    Factory,
    Option<crate::horizon::MemoryFactory>,
    Option<usize>,
)> {
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
        // The frames it holds: the shrunk window, or the trained one.
        let frames = window.or(model.window());
        let driving = model.clone();
        return Ok((
            Box::new(move || Pilot::Sensing(fresh(&driving))),
            Some(Box::new(move || fresh(&model))),
            frames,
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
    Ok((factory, None, None))
}

/// A controller as named on the command line (see [`Label`]); `weights` is the `--weights`
/// option, for a single learned controller.
pub fn entry(label: &str, weights: Option<&Path>) -> Result<crate::horizon::Entry> {
    let parsed = Label::parse(label, weights)?;
    let (factory, memory_factory, window_frames) =
        factories(&parsed).map_err(|e| anyhow::anyhow!("`{label}`: {e:#}"))?;
    let weights = match parsed.file {
        Some(f) => f.display().to_string(),
        None if ModelKind::from_id(parsed.kind).is_some() => "bundled".to_owned(),
        None if learned_kind(parsed.kind).is_some() => format!("bundled {}", parsed.kind),
        None => "none".to_owned(),
    };
    Ok(crate::horizon::Entry {
        label: parsed.name(label),
        kind: parsed.kind.to_owned(),
        weights,
        factory,
        memory_factory,
        window_frames,
    })
}
