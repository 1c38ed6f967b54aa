//! Any trained model, as loaded from a weight file, ready to make controllers.

use crate::nets::{Ablation, ModelKind, Net};
use crate::normaliser::Normaliser;
use crate::weights::WeightFile;
use crate::{Error, MemoryController, Result};
use memdrive_sim::ObservationSpec;
use std::path::Path;
use std::sync::Arc;

/// A trained network of any kind and its observation statistics.
#[derive(Clone, Debug)]
pub struct Model {
    net: Arc<dyn Net>,
    normaliser: Arc<Normaliser>,
    ablation: Option<&'static Ablation>,
}

impl Model {
    /// `net` reading observations normalised by `normaliser`.
    pub fn new(net: Arc<dyn Net>, normaliser: Arc<Normaliser>) -> Self {
        Self {
            net,
            normaliser,
            ablation: None,
        }
    }

    /// The same model with ablation `id` applied (one of its kind's `ablations()`); an error names
    /// the ablations its kind offers. A model already ablated keeps what was taken away.
    pub fn ablated(&self, id: &str) -> Result<Self> {
        let known = self.kind().ablations();
        let unknown = || Error::UnknownAblation {
            kind: self.kind().to_string(),
            id: id.to_owned(),
            known: if known.is_empty() {
                "none".to_owned()
            } else {
                known.iter().map(|a| a.id).collect::<Vec<_>>().join(", ")
            },
        };
        let ablation = known.iter().find(|a| a.id == id).ok_or_else(unknown)?;
        let net = self.net.ablated(id).ok_or_else(unknown)?;
        Ok(Self {
            net,
            normaliser: self.normaliser.clone(),
            ablation: Some(ablation),
        })
    }

    /// The ablation applied, if any.
    pub fn ablation(&self) -> Option<&'static Ablation> {
        self.ablation
    }

    /// Builds the network a checked weight file describes; `path` names it in errors.
    pub fn from_file(mut file: WeightFile, path: &Path) -> Result<Self> {
        let kind = file.kind;
        let net = kind.build(&mut file).map_err(|problem| Error::Invalid {
            path: path.to_owned(),
            message: problem.to_string(),
        })?;
        Ok(Self::new(net, Arc::new(file.normaliser)))
    }

    /// Reads, checks and builds the model in `path` for the simulator layout `expected`.
    pub fn load(path: &Path, expected: &ObservationSpec) -> Result<Self> {
        Self::from_file(WeightFile::load(path, expected)?, path)
    }

    /// Which kind of network it is.
    pub fn kind(&self) -> ModelKind {
        self.net.kind()
    }

    /// The network.
    pub fn net(&self) -> &dyn Net {
        self.net.as_ref()
    }

    /// The observation statistics the network normalises with.
    pub fn normaliser(&self) -> &Normaliser {
        &self.normaliser
    }

    /// The frames it looks back over, for a network with a window of frames.
    pub fn window(&self) -> Option<usize> {
        self.net.window()
    }

    /// A fresh controller driving with this model, its window shrunk to `window_limit` frames
    /// when given; an error names a limit outside 1…K, or one given for a model without a
    /// window.
    pub fn controller_with_window(
        &self,
        window_limit: Option<usize>,
    ) -> Result<Box<dyn MemoryController + Send>> {
        let Some(frames) = window_limit else {
            return Ok(self.controller());
        };
        let Some(k) = self.window() else {
            return Err(Error::Training(format!(
                "a window applies to a model with a window of frames, not to a {} model",
                self.kind()
            )));
        };
        self.net
            .clone()
            .windowed_controller(self.normaliser.clone(), frames)
            .ok_or_else(|| {
                Error::Training(format!(
                    "a window of {frames} frames: this {} looks back over 1 to {k} frames",
                    self.kind()
                ))
            })
    }

    /// A fresh controller driving with this model.
    pub fn controller(&self) -> Box<dyn MemoryController + Send> {
        self.net.clone().controller(self.normaliser.clone())
    }
}
