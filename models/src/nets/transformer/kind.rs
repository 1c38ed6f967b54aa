//! The transformer as a kind of learned controller, trained by backpropagation on windows of
//! frames.

use super::{TransformerConfig, TransformerController, TransformerParams, train_samples};
use crate::MemoryController;
use crate::adam::Adam;
use crate::Invalid;
use crate::nets::{Bundled, Kind, ModelKind, Net};
use crate::normaliser::Normaliser;
use crate::train::{GradientLearner, GradientNet, Learner, Sequences, TrainOptions};
use crate::weights::{Tensor, WeightFile, parse_config};
use memdrive_sim::Controller;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The transformer kind.
pub struct Transformer;

/// The transformer kind, as a registry entry.
pub const KIND: ModelKind = ModelKind::of(&Transformer);

impl Kind for Transformer {
    fn id(&self) -> &'static str {
        "transformer"
    }

    fn title(&self) -> &'static str {
        "Transformer"
    }

    fn summary(&self) -> &'static str {
        "Transformer over the last K frames: an exact window"
    }

    fn colour(&self) -> [u8; 3] {
        [170, 220, 90]
    }

    fn bundled_weights(&self) -> &'static [u8] {
        include_bytes!("../../../../assets/weights/transformer.safetensors")
    }

    /// The 64-frame (6.4 s) transformer: the same recipe with gaps of 0.2-6.4 s, trained on
    /// windows of 32 to 64 frames so that a window shrunk to 33 frames or more at run time
    /// still drives (its cliff moves in with it); the README's command, with
    /// `assets/configs/transformer64.json` (docs/memory-horizon.md).
    fn more_bundled(&self) -> &'static [Bundled] {
        &[Bundled {
            name: "transformer64",
            title: "Transformer 64",
            bytes: include_bytes!("../../../../assets/weights/transformer64.safetensors"),
        }]
    }

    fn has_window(&self) -> bool {
        true
    }

    fn long_term_matrix(&self) -> &'static str {
        "attn.0.q_proj.weight"
    }

    fn build(&self, file: &mut WeightFile) -> Result<Arc<dyn Net>, Invalid> {
        Ok(Arc::new(TransformerParams::from_weights(file)?))
    }

    fn default_config(&self) -> serde_json::Value {
        serde_json::to_value(TransformerConfig::default()).unwrap_or_default()
    }

    fn learner(&self, config: serde_json::Value) -> Result<Box<dyn Learner>, Invalid> {
        let config: TransformerConfig = parse_config(config, "transformer", TransformerConfig::validate)?;
        Ok(Box::new(GradientLearner::<TransformerParams>::new(config)))
    }

    /// As the GRU's with 600 `mixed_traffic` episodes, from seed 2 (of seeds 0-6, one of the two
    /// that learned the cliff where their window ends, and the one that keeps `mixed_traffic`
    /// above 90%), with `memory_gap` driven by the expert at gaps of 0.2-1.6 s only
    /// (docs/memory-horizon.md).
    fn bundled_options(&self) -> TrainOptions {
        let mut options = TrainOptions {
            seed: 2,
            // A fourth DAgger round: its data hold the third round's mistakes to mine.
            rounds: 4,
            // The learner would be labelled "wait" and "go" on one state once its window has
            // lost the sighting; the expert drives it instead, at gaps its window spans.
            expert_driven: ["memory_gap".to_owned()].into(),
            ..TrainOptions::recurrent()
        };
        options
            .scenario_episodes
            .insert("mixed_traffic".to_owned(), 600);
        if let Ok(gaps) = memdrive_sim::scenario::Override::parse("memory_gap.gap_s=[0.2,1.6]") {
            options
                .scenario_overrides
                .insert("memory_gap".to_owned(), vec![gaps]);
        }
        options
    }
}

impl Net for TransformerParams {
    fn kind(&self) -> ModelKind {
        KIND
    }

    fn controller(
        self: Arc<Self>,
        normaliser: Arc<Normaliser>,
    ) -> Box<dyn MemoryController + Send> {
        Box::new(TransformerController::new(self, normaliser))
    }

    fn window(&self) -> Option<usize> {
        Some(self.window)
    }

    fn windowed_controller(
        self: Arc<Self>,
        normaliser: Arc<Normaliser>,
        frames: usize,
    ) -> Option<Box<dyn MemoryController + Send>> {
        TransformerController::new(self, normaliser)
            .with_window_limit(frames)
            .map(|c| Box::new(c) as Box<dyn MemoryController + Send>)
    }

    fn state_dim(&self) -> usize {
        self.window * self.d_model
    }

    fn state_description(&self) -> &'static str {
        "value cache of the window, by frame age"
    }

    fn input_influence(&self, inputs: &[f32], _state_before: &[f32]) -> Vec<f64> {
        let frames = inputs.len() / self.inputs.max(1);
        let first = frames.saturating_sub(self.window);
        let readout = self.readout(&inputs[first * self.inputs..]);
        TransformerParams::input_influence(self, &readout)
    }
}

impl GradientNet for TransformerParams {
    type Config = TransformerConfig;

    fn kind() -> ModelKind {
        KIND
    }

    fn init(inputs: usize, config: &TransformerConfig, rng: &mut ChaCha8Rng) -> Self {
        TransformerParams::init(inputs, config, rng)
    }

    fn optimiser(config: &TransformerConfig) -> (f32, f32) {
        (config.learning_rate, config.clip_norm)
    }

    fn tensor_lengths(&self) -> Vec<usize> {
        self.tensors.iter().map(Vec::len).collect()
    }

    fn train_round(
        &mut self,
        adam: &mut Adam,
        config: &TransformerConfig,
        data: &Sequences<'_>,
        rng: &mut ChaCha8Rng,
        threads: Option<usize>,
        on_step: &mut dyn FnMut(usize, usize, f64) -> bool,
    ) -> Option<Self> {
        train_samples(self, adam, config, data, rng, threads, on_step).1
    }

    fn controller(params: Arc<Self>, normaliser: Arc<Normaliser>) -> Box<dyn Controller + Send> {
        Box::new(TransformerController::new(params, normaliser))
    }

    fn weight_tensors(&self) -> BTreeMap<String, Tensor> {
        TransformerParams::weight_tensors(self)
    }
}
