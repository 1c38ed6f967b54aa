//! The GRU as a kind of learned controller, trained by backpropagation through time.

use super::{GruConfig, GruController, GruParams};
use crate::MemoryController;
use crate::adam::Adam;
use crate::Invalid;
use crate::nets::{Kind, ModelKind, Net};
use crate::normaliser::Normaliser;
use crate::train::{GradientLearner, GradientNet, Learner, Sequences, TrainOptions};
use crate::weights::{Tensor, WeightFile, parse_config};
use memdrive_sim::Controller;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The GRU kind.
pub struct Gru;

/// The GRU kind, as a registry entry.
pub const KIND: ModelKind = ModelKind::of(&Gru);

impl Kind for Gru {
    fn id(&self) -> &'static str {
        "gru"
    }

    fn title(&self) -> &'static str {
        "GRU"
    }

    fn summary(&self) -> &'static str {
        "Gated recurrent network: a hidden state that fades"
    }

    fn colour(&self) -> [u8; 3] {
        [90, 180, 240]
    }

    fn bundled_weights(&self) -> &'static [u8] {
        include_bytes!("../../../../assets/weights/gru.safetensors")
    }

    fn long_term_matrix(&self) -> &'static str {
        "gru.weight_hh"
    }

    fn build(&self, file: &mut WeightFile) -> Result<Arc<dyn Net>, Invalid> {
        let (params, _config) = GruParams::from_weights(file)?;
        Ok(Arc::new(params))
    }

    fn default_config(&self) -> serde_json::Value {
        serde_json::to_value(GruConfig::default()).unwrap_or_default()
    }

    fn learner(&self, config: serde_json::Value) -> Result<Box<dyn Learner>, Invalid> {
        let config: GruConfig = parse_config(config, "GRU", GruConfig::validate)?;
        Ok(Box::new(GradientLearner::<GruParams>::new(config)))
    }

    /// 120 episodes per scenario per round, 400 of `mixed_traffic` and 240 of
    /// `occluded_crossing`, where it needed the most data, and 240 of `memory_gap`, where a
    /// hidden pedestrian must be remembered for up to 8 s and acted on until the car reaches
    /// them; 5 DAgger rounds (with 4 it still stopped short of the vans in a third of the
    /// `memory_gap` seeds with the pedestrian); from seed 2, of seeds 0-2 (all bridging every
    /// gap of the present `memory_gap`) the one that drives best in `mixed_traffic` (README,
    /// "Bundled weights").
    fn bundled_options(&self) -> TrainOptions {
        TrainOptions {
            seed: 2,
            rounds: 5,
            ..TrainOptions::recurrent()
        }
    }
}

impl Net for GruParams {
    fn kind(&self) -> ModelKind {
        KIND
    }

    fn controller(
        self: Arc<Self>,
        normaliser: Arc<Normaliser>,
    ) -> Box<dyn MemoryController + Send> {
        Box::new(GruController::new(self, normaliser))
    }

    fn state_dim(&self) -> usize {
        self.hidden
    }

    fn state_description(&self) -> &'static str {
        "hidden state"
    }

    fn input_influence(&self, inputs: &[f32], state_before: &[f32]) -> Vec<f64> {
        let caches = self.forward(inputs, state_before);
        GruParams::input_influence(self, &caches)
    }
}

impl GradientNet for GruParams {
    type Config = GruConfig;

    fn kind() -> ModelKind {
        KIND
    }

    fn init(inputs: usize, config: &GruConfig, rng: &mut ChaCha8Rng) -> Self {
        GruParams::init_with(inputs, config.hidden, config.head_mlp, rng)
    }

    fn optimiser(config: &GruConfig) -> (f32, f32) {
        (config.learning_rate, config.clip_norm)
    }

    fn tensor_lengths(&self) -> Vec<usize> {
        self.trainable().iter().map(|t| t.len()).collect()
    }

    fn train_round(
        &mut self,
        adam: &mut Adam,
        config: &GruConfig,
        data: &Sequences<'_>,
        rng: &mut ChaCha8Rng,
        threads: Option<usize>,
        on_step: &mut dyn FnMut(usize, usize, f64) -> bool,
    ) -> Option<Self> {
        let plan = super::train::plan(config);
        crate::train::train_windows(self, adam, &plan, data, rng, threads, on_step).1
    }

    fn controller(params: Arc<Self>, normaliser: Arc<Normaliser>) -> Box<dyn Controller + Send> {
        Box::new(GruController::new(params, normaliser))
    }

    fn weight_tensors(&self) -> BTreeMap<String, Tensor> {
        self.tensors()
    }
}
