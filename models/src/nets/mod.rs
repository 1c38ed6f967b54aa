//! The kinds of learned controller, each in its own folder, and the registry that lists them.
//!
//! A kind is a value implementing [`Kind`] (what a kind *is*: its name, its bundled weights,
//! how to build a network from a weight file and how to train one) whose networks implement
//! [`Net`] (what a loaded network *does*: drive, show its state, measure its inputs'
//! influence). Everything outside this folder — the command line, the app, the benchmarks —
//! reaches the kinds through [`ModelKind::all`] and these two traits, never by name, so adding a
//! kind is its folder plus its name in the `registry!` line.

use crate::Invalid;
use crate::MemoryController;
use crate::normaliser::Normaliser;
use crate::train::{Learner, TrainOptions};
use crate::weights::WeightFile;
use std::fmt;
use std::sync::Arc;

/// Declares every kind's folder (`pub mod <id>;`) and lists its `KIND`, in order.
macro_rules! registry {
    ($($kind:ident),* $(,)?) => {
        $(pub mod $kind;)*
        /// Every kind of learned controller, in the order the app shows them and the CLI
        /// lists them.
        static KINDS: &[ModelKind] = &[$($kind::KIND),*];
    };
}

// The registry: a new kind is its folder and its name here.
registry!(rbf, gru, transformer, lru, hebbian);

/// What a kind of learned controller is: its names, its bundled weights, how a network of it is
/// built from a weight file, and how one is trained.
pub trait Kind: Send + Sync + 'static {
    /// The name in weight files, on the command line and in benchmark keys (`<id>_act_us`):
    /// lowercase, no spaces.
    fn id(&self) -> &'static str;
    /// The name shown above its lane in the app.
    fn title(&self) -> &'static str;
    /// One line on where its memory lives, for `--help` and the app's tooltips.
    fn summary(&self) -> &'static str;
    /// Its colour in the app's plots, as RGB.
    fn colour(&self) -> [u8; 3];
    /// The weight file it drives with unless another is given (`assets/weights/<id>.safetensors`).
    fn bundled_weights(&self) -> &'static [u8];
    /// Further weight files shipped with it, each under a name of its own on the command line
    /// and in the app (`transformer64`), beside the default (`bundled_weights`).
    fn more_bundled(&self) -> &'static [Bundled] {
        &[]
    }
    /// True when its networks look back over a window of frames that can be shrunk at run
    /// time (`Net::window`, `transformer@K` on the command line).
    fn has_window(&self) -> bool {
        false
    }
    /// The parts of its networks' memory that can be switched off at run time (`Net::ablated`).
    fn ablations(&self) -> &'static [Ablation] {
        &[]
    }
    /// The tensor of its weight files most worth drawing as its long-term memory.
    fn long_term_matrix(&self) -> &'static str;
    /// Builds the network a checked weight file of this kind describes, taking its tensors and
    /// reading its `config`; an error names the key or tensor that is wrong.
    fn build(&self, file: &mut WeightFile) -> Result<Arc<dyn Net>, Invalid>;
    /// Its default hyper-parameters, as the JSON a configuration file overrides.
    fn default_config(&self) -> serde_json::Value;
    /// A fresh learner with hyper-parameters `config` (a whole configuration), checked once
    /// here; an error names the field that is wrong.
    fn learner(&self, config: serde_json::Value) -> Result<Box<dyn Learner>, Invalid>;
    /// A note for the app's training panel on how it fits, when that is not by optimiser steps
    /// with a loss each (the panel's loss plot stays empty then).
    fn training_note(&self) -> Option<&'static str> {
        None
    }
    /// How its bundled weights were trained (the README's commands).
    fn bundled_options(&self) -> TrainOptions {
        TrainOptions::default()
    }
}

/// A part of a network's memory that can be switched off at run time, to see what it is worth
/// (`kind:ID` on the command line, a switch in the app's lane menu).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ablation {
    /// Its name on the command line: lowercase, no spaces.
    pub id: &'static str,
    /// Its name in the app (plain ASCII).
    pub label: &'static str,
    /// What it takes away, in one line.
    pub summary: &'static str,
}

/// A loaded network of some kind: immutable while it drives; the controllers it makes own its
/// short-term memory.
pub trait Net: fmt::Debug + Send + Sync {
    /// Its kind.
    fn kind(&self) -> ModelKind;
    /// A fresh controller driving with this network and `normaliser`.
    fn controller(self: Arc<Self>, normaliser: Arc<Normaliser>)
    -> Box<dyn MemoryController + Send>;
    /// The frames it looks back over, for a network with a window of frames.
    fn window(&self) -> Option<usize> {
        None
    }
    /// A fresh controller whose window is shrunk to `frames` (1 ..= `window()`); `None` when it
    /// has no window or `frames` is outside it.
    fn windowed_controller(
        self: Arc<Self>,
        _normaliser: Arc<Normaliser>,
        _frames: usize,
    ) -> Option<Box<dyn MemoryController + Send>> {
        None
    }
    /// The same network with ablation `id` (one of its kind's `ablations()`) applied; `None`
    /// for an id it does not offer.
    fn ablated(&self, _id: &str) -> Option<Arc<dyn Net>> {
        None
    }
    /// Length of the state vector the instruments read (`MemorySnapshot::state`).
    fn state_dim(&self) -> usize;
    /// What the state vector is, in words.
    fn state_description(&self) -> &'static str;
    /// ‖∂action / ∂input_{t−k}‖ by lag k (from 0) at the last of `inputs` (normalised frames,
    /// row-major, oldest first), with `state_before` the state vector before the first of them.
    fn input_influence(&self, inputs: &[f32], state_before: &[f32]) -> Vec<f64>;
    /// The memory curve R²(k), k = 0…`lags`, predicted from the parameters alone for raw
    /// frames drawn independently with covariance `input_cov` (the white-noise probe), averaged
    /// over `elements`; `None` for a kind whose memory curve has no closed form.
    fn predicted_memory_curve(
        &self,
        _normaliser: &Normaliser,
        _input_cov: &nalgebra::DMatrix<f64>,
        _elements: &[usize],
        _lags: usize,
    ) -> Option<Vec<f64>> {
        None
    }
}

/// A weight file shipped with memdrive: a kind's default (named by its id) or one of its
/// `more_bundled`, named by its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bundled {
    /// Its name on the command line (`transformer64`) and in messages: lowercase, no spaces.
    pub name: &'static str,
    /// Its name in the app ("Transformer 64").
    pub title: &'static str,
    /// The weight file's bytes.
    pub bytes: &'static [u8],
}

/// A kind of learned controller: one of [`ModelKind::all`]. Compared, hashed, printed and
/// serialised by its id.
#[derive(Clone, Copy)]
pub struct ModelKind(&'static dyn Kind);

impl ModelKind {
    /// The registry entry of `kind`.
    pub(crate) const fn of(kind: &'static dyn Kind) -> Self {
        Self(kind)
    }

    /// Every kind, in the registry's order.
    pub fn all() -> &'static [ModelKind] {
        KINDS
    }

    /// The kind whose id is `id`.
    pub fn from_id(id: &str) -> Option<Self> {
        KINDS.iter().copied().find(|k| k.id() == id)
    }

    /// The kind whose id is `id`, or an error listing the kinds there are.
    pub fn parse(id: &str) -> Result<Self, Invalid> {
        Self::from_id(id).ok_or_else(|| Invalid::UnknownKind {
            id: id.to_owned(),
            known: Self::ids().join(", "),
        })
    }

    /// The id of every kind, in order.
    pub fn ids() -> Vec<&'static str> {
        KINDS.iter().map(|k| k.id()).collect()
    }

    /// Its default shipped weights, named by its id.
    pub fn default_bundled(self) -> Bundled {
        Bundled {
            name: self.id(),
            title: self.title(),
            bytes: self.bundled_weights(),
        }
    }

    /// Every weight file shipped with this kind: its default first, then the others.
    pub fn bundled(self) -> Vec<Bundled> {
        std::iter::once(self.default_bundled())
            .chain(self.more_bundled().iter().copied())
            .collect()
    }

    /// The kind and the shipped weights named `name`: a kind's id names its default weights.
    pub fn bundled_named(name: &str) -> Option<(Self, Bundled)> {
        KINDS
            .iter()
            .flat_map(|&k| k.bundled().into_iter().map(move |b| (k, b)))
            .find(|(_, b)| b.name == name)
    }

    /// The name of every shipped weight file, kinds' ids first, in order.
    pub fn bundled_names() -> Vec<&'static str> {
        let more = KINDS
            .iter()
            .flat_map(|k| k.more_bundled().iter().map(|b| b.name));
        Self::ids().into_iter().chain(more).collect()
    }

    /// The id: the name used in files and on the command line.
    pub fn as_str(self) -> &'static str {
        self.0.id()
    }
}

/// The kind the app's training panel starts on: the GRU, quick to train and with memory.
impl Default for ModelKind {
    fn default() -> Self {
        gru::KIND
    }
}

impl std::ops::Deref for ModelKind {
    type Target = dyn Kind;

    fn deref(&self) -> &Self::Target {
        self.0
    }
}

impl PartialEq for ModelKind {
    fn eq(&self, other: &Self) -> bool {
        self.id() == other.id()
    }
}

impl Eq for ModelKind {}

impl std::hash::Hash for ModelKind {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.id().hash(state);
    }
}

impl fmt::Debug for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl serde::Serialize for ModelKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

impl<'de> serde::Deserialize<'de> for ModelKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let id = String::deserialize(deserializer)?;
        Self::parse(&id).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ids are unique, lowercase words (they name files, CLI values and benchmark keys), and
    /// every kind's bundled weights build a network of that kind and save to the same bytes.
    #[test]
    fn the_registry_is_consistent() {
        let ids = ModelKind::ids();
        for (i, id) in ids.iter().enumerate() {
            assert!(!ids[..i].contains(id), "{id} twice");
            assert!(
                !id.is_empty() && id.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{id}"
            );
        }
        let names = ModelKind::bundled_names();
        for (i, name) in names.iter().enumerate() {
            assert!(!names[..i].contains(name), "{name} twice");
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{name}"
            );
        }
        let layout = memdrive_sim::ObservationSpec::new(32);
        for &kind in ModelKind::all() {
            for bundled in kind.bundled() {
                assert_eq!(
                    ModelKind::bundled_named(bundled.name),
                    Some((kind, bundled))
                );
                let path = crate::weights::bundled_path(bundled.name);
                let file = WeightFile::from_bytes(bundled.bytes, &path, &layout)
                    .unwrap_or_else(|e| panic!("{e}"));
                // Saved again, a file loaded is its own bytes (its config's floats read back
                // exactly: serde_json's `float_roundtrip`).
                let again = file.to_bytes().unwrap_or_else(|e| panic!("{e}"));
                assert!(
                    again == bundled.bytes,
                    "{} saved again differs",
                    bundled.name
                );
                assert_eq!(file.kind, kind);
                assert!(file.tensors.contains_key(kind.long_term_matrix()), "{kind}");
                let model = crate::Model::from_file(file, &path).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(model.kind(), kind);
            }
            assert!(kind.learner(kind.default_config()).is_ok(), "{kind}");
        }
        assert_eq!(ModelKind::parse("gru").map(ModelKind::as_str), Ok("gru"));
        let err = ModelKind::parse("lstm")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("`lstm`") && err.contains("rbf, gru, transformer"),
            "{err}"
        );
    }
}
