//! Learned controllers on the command line: loading weight files (bundled or given) and
//! training new ones.

use anyhow::{Result, bail};
use memdrive_models::weights::{ModelKind, WeightFile, bundled_path};
use memdrive_models::{Bundled, Model};
use memdrive_sim::{ObservationSpec, ScenarioSpec};
use std::path::{Path, PathBuf};

/// The observation layout of every built-in scenario (32 beams).
pub fn builtin_layout() -> ObservationSpec {
    ObservationSpec::new(32)
}

/// Checks that the learned controllers can drive in `spec`: its sensors must give the
/// observation layout they were trained on.
pub fn check_layout(spec: &ScenarioSpec) -> Result<()> {
    let expected = builtin_layout();
    let layout = ObservationSpec::of(spec);
    if layout != expected {
        bail!(
            "scenario `{}` has a {}-beam lidar, but the learned controllers read {} beams",
            spec.name,
            layout.beams(),
            expected.beams()
        );
    }
    Ok(())
}

/// Reads and checks `path`, or the bundled weights of `kind` when no path is given; the file
/// must hold a model of that kind. Returns the file and the path that names it in messages.
pub fn load_file(kind: ModelKind, path: Option<&Path>) -> Result<(WeightFile, PathBuf)> {
    load_named(kind.default_bundled(), kind, path)
}

/// Reads and checks `path`, or the shipped weights `bundled` when no path is given; the file
/// must hold a model of `kind`. Returns the file and the path that names it in messages.
pub fn load_named(
    bundled: Bundled,
    kind: ModelKind,
    path: Option<&Path>,
) -> Result<(WeightFile, PathBuf)> {
    let layout = builtin_layout();
    let (file, shown) = match path {
        Some(p) => (WeightFile::load(p, &layout)?, p.to_owned()),
        None => {
            // Shipped with the kind (`Kind::bundled_weights`, `Kind::more_bundled`), produced
            // by the commands in the README ("Bundled weights").
            let shown = bundled_path(bundled.name);
            (
                WeightFile::from_bytes(bundled.bytes, &shown, &layout)?,
                shown,
            )
        }
    };
    if file.kind != kind {
        bail!(
            "{}: holds a `{}` model, but `{}` was asked for",
            shown.display(),
            file.kind.as_str(),
            kind.as_str()
        );
    }
    Ok((file, shown))
}

/// A fresh controller of `model`, a transformer's window shrunk to `window` frames. The window
/// is checked when it is chosen (`Model::controller_with_window`); should a model refuse it
/// anyway, it drives with its whole window rather than not at all.
pub fn fresh_controller(
    model: &Model,
    window: Option<usize>,
) -> Box<dyn memdrive_models::MemoryController + Send> {
    model
        .controller_with_window(window)
        .unwrap_or_else(|_| model.controller())
}

/// Loads `path`, or the bundled weights of `kind` when no path is given; the file must hold
/// a model of that kind.
pub fn load(kind: ModelKind, path: Option<&Path>) -> Result<Model> {
    load_shipped(kind.default_bundled(), kind, path)
}

/// Loads `path`, or the shipped weights `bundled` when no path is given; the file must hold a
/// model of `kind`.
pub fn load_shipped(bundled: Bundled, kind: ModelKind, path: Option<&Path>) -> Result<Model> {
    let (file, shown) = load_named(bundled, kind, path)?;
    Ok(Model::from_file(file, &shown)?)
}
