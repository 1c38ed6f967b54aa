//! The LRU as a kind of learned controller, trained by backpropagation through time.

use super::{LruConfig, LruController, LruParams};
use crate::Invalid;
use crate::MemoryController;
use crate::adam::Adam;
use crate::nets::{Kind, ModelKind, Net};
use crate::normaliser::Normaliser;
use crate::train::{GradientLearner, GradientNet, Learner, Sequences, TrainOptions};
use crate::weights::{Tensor, WeightFile, parse_config};
use memdrive_sim::Controller;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The LRU kind.
pub struct Lru;

/// The LRU kind, as a registry entry.
pub const KIND: ModelKind = ModelKind::of(&Lru);

impl Kind for Lru {
    fn id(&self) -> &'static str {
        "lru"
    }

    fn title(&self) -> &'static str {
        "LRU"
    }

    fn summary(&self) -> &'static str {
        "Linear recurrent unit: a linear state whose forgetting is read from its weights"
    }

    fn colour(&self) -> [u8; 3] {
        [210, 110, 220]
    }

    fn bundled_weights(&self) -> &'static [u8] {
        include_bytes!("../../../../assets/weights/lru.safetensors")
    }

    fn long_term_matrix(&self) -> &'static str {
        "lru.B_re"
    }

    fn build(&self, file: &mut WeightFile) -> Result<Arc<dyn Net>, Invalid> {
        Ok(Arc::new(LruParams::from_weights(file)?))
    }

    fn default_config(&self) -> serde_json::Value {
        serde_json::to_value(LruConfig::default()).unwrap_or_default()
    }

    fn learner(&self, config: serde_json::Value) -> Result<Box<dyn Learner>, Invalid> {
        let config: LruConfig = parse_config(config, "LRU", LruConfig::validate)?;
        Ok(Box::new(GradientLearner::<LruParams>::new(config)))
    }

    /// As the GRU's recipe, from seed 0.
    fn bundled_options(&self) -> TrainOptions {
        TrainOptions::recurrent()
    }
}

impl Net for LruParams {
    fn kind(&self) -> ModelKind {
        KIND
    }

    fn controller(
        self: Arc<Self>,
        normaliser: Arc<Normaliser>,
    ) -> Box<dyn MemoryController + Send> {
        Box::new(LruController::new(self, normaliser))
    }

    fn state_dim(&self) -> usize {
        2 * self.state
    }

    fn state_description(&self) -> &'static str {
        "state (real and imaginary part of each channel)"
    }

    fn input_influence(&self, inputs: &[f32], state_before: &[f32]) -> Vec<f64> {
        let caches = self.forward(inputs, state_before);
        LruParams::input_influence(self, &caches)
    }

    fn predicted_memory_curve(
        &self,
        normaliser: &Normaliser,
        input_cov: &nalgebra::DMatrix<f64>,
        elements: &[usize],
        lags: usize,
    ) -> Option<Vec<f64>> {
        Some(LruParams::predicted_memory_curve(
            self, normaliser, input_cov, elements, lags,
        ))
    }
}

impl GradientNet for LruParams {
    type Config = LruConfig;

    fn kind() -> ModelKind {
        KIND
    }

    fn init(inputs: usize, config: &LruConfig, rng: &mut ChaCha8Rng) -> Self {
        LruParams::init(inputs, config, rng)
    }

    fn optimiser(config: &LruConfig) -> (f32, f32) {
        (config.learning_rate, config.clip_norm)
    }

    fn tensor_lengths(&self) -> Vec<usize> {
        self.tensors.iter().map(Vec::len).collect()
    }

    fn train_round(
        &mut self,
        adam: &mut Adam,
        config: &LruConfig,
        data: &Sequences<'_>,
        rng: &mut ChaCha8Rng,
        threads: Option<usize>,
        on_step: &mut dyn FnMut(usize, usize, f64) -> bool,
    ) -> Option<Self> {
        let plan = super::train::plan(config);
        crate::train::train_windows(self, adam, &plan, data, rng, threads, on_step).1
    }

    fn controller(params: Arc<Self>, normaliser: Arc<Normaliser>) -> Box<dyn Controller + Send> {
        Box::new(LruController::new(params, normaliser))
    }

    fn weight_tensors(&self) -> BTreeMap<String, Tensor> {
        LruParams::weight_tensors(self)
    }
}
