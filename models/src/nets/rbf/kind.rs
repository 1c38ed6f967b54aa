//! The RBF network as a kind of learned controller: refitted from scratch, in closed form, on
//! the aggregated data of every training round.

use super::{RbfConfig, RbfController, RbfNetwork};
use crate::dataset::Dataset;
use crate::Invalid;
use crate::nets::{Kind, ModelKind, Net};
use crate::normaliser::Normaliser;
use crate::train::{Learner, normalised};
use crate::weights::{ObservationLayout, TrainingInfo, WeightFile, parse_config};
use crate::{Error, MemoryController, Result};
use memdrive_sim::Controller;
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;

/// The RBF network kind.
pub struct Rbf;

/// The RBF network kind, as a registry entry.
pub const KIND: ModelKind = ModelKind::of(&Rbf);

impl Kind for Rbf {
    fn id(&self) -> &'static str {
        "rbf"
    }

    fn title(&self) -> &'static str {
        "RBF network"
    }

    fn summary(&self) -> &'static str {
        "Radial-basis-function network: no short-term memory"
    }

    fn colour(&self) -> [u8; 3] {
        [230, 120, 90]
    }

    fn bundled_weights(&self) -> &'static [u8] {
        include_bytes!("../../../../assets/weights/rbf.safetensors")
    }

    fn long_term_matrix(&self) -> &'static str {
        "rbf.centres"
    }

    fn build(&self, file: &mut WeightFile) -> std::result::Result<Arc<dyn Net>, Invalid> {
        Ok(Arc::new(RbfNetwork::from_weights(file)?))
    }

    fn training_note(&self) -> Option<&'static str> {
        Some(
            "The RBF is fitted in closed form (k-means, then least squares): no optimiser \
             steps, one loss per round.",
        )
    }

    fn default_config(&self) -> serde_json::Value {
        serde_json::to_value(RbfConfig::default()).unwrap_or_default()
    }

    fn learner(&self, config: serde_json::Value) -> std::result::Result<Box<dyn Learner>, Invalid> {
        let config: RbfConfig = parse_config(config, "RBF", RbfConfig::validate)?;
        Ok(Box::new(RbfLearner {
            config,
            fitted: None,
        }))
    }
}

impl Net for RbfNetwork {
    fn kind(&self) -> ModelKind {
        KIND
    }

    fn controller(
        self: Arc<Self>,
        normaliser: Arc<Normaliser>,
    ) -> Box<dyn MemoryController + Send> {
        Box::new(RbfController::new(self, normaliser))
    }

    fn state_dim(&self) -> usize {
        self.units()
    }

    fn state_description(&self) -> &'static str {
        "unit activations"
    }

    fn input_influence(&self, inputs: &[f32], _state_before: &[f32]) -> Vec<f64> {
        let newest = &inputs[inputs.len().saturating_sub(self.inputs)..];
        vec![RbfNetwork::input_influence(self, newest)]
    }
}

/// The RBF network is refitted from scratch on the aggregated data each round.
struct RbfLearner {
    config: RbfConfig,
    fitted: Option<(Arc<RbfNetwork>, Arc<Normaliser>)>,
}

impl Learner for RbfLearner {
    fn fit(
        &mut self,
        data: &Dataset,
        rng: &mut ChaCha8Rng,
        threads: Option<usize>,
        _on_step: &mut dyn FnMut(usize, usize, f64) -> bool,
    ) -> Result<()> {
        if data.len() < self.config.units {
            return Err(Error::Training(format!(
                "only {} labelled observations for {} units",
                data.len(),
                self.config.units
            )));
        }
        let normaliser = Normaliser::fit(&data.observations, data.dim);
        let inputs = normalised(&normaliser, data);
        let held = super::held_at_rest(
            &data.targets,
            &data.speeds(),
            self.config.rest_hold_below_mps,
        );
        let net = RbfNetwork::fit(
            self.config.clone(),
            &inputs,
            data.dim,
            held.as_ref().unwrap_or(&data.targets),
            rng,
            threads,
        );
        self.fitted = Some((Arc::new(net), Arc::new(normaliser)));
        Ok(())
    }

    fn controller(&self) -> Box<dyn Controller + Send> {
        match &self.fitted {
            Some((net, normaliser)) => {
                Box::new(RbfController::new(net.clone(), normaliser.clone()))
            }
            None => unreachable!("controller() before fit()"),
        }
    }

    fn weight_file(&self, layout: ObservationLayout, training: TrainingInfo) -> Result<WeightFile> {
        let (net, normaliser) = self
            .fitted
            .as_ref()
            .ok_or_else(|| Error::Training("nothing fitted".into()))?;
        Ok(net.to_weight_file(layout, (**normaliser).clone(), training))
    }
}
