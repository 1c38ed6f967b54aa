//! Any trained model, as loaded from a weight file, ready to make controllers.

use crate::gru::{GruController, GruParams};
use crate::normaliser::Normaliser;
use crate::rbf::{RbfController, RbfNetwork};
use crate::transformer::{TransformerController, TransformerParams};
use crate::weights::{ModelKind, WeightFile};
use crate::{Error, MemoryController, Result};
use memdrive_sim::ObservationSpec;
use std::path::Path;
use std::sync::Arc;

/// A trained network and its observation statistics.
#[derive(Clone, Debug)]
pub enum Model {
    /// An RBF network.
    Rbf(Arc<RbfNetwork>, Arc<Normaliser>),
    /// A GRU.
    Gru(Arc<GruParams>, Arc<Normaliser>),
    /// A transformer over recent frames.
    Transformer(Arc<TransformerParams>, Arc<Normaliser>),
}

impl Model {
    /// Builds the network a checked weight file describes; `path` names it in errors.
    pub fn from_file(mut file: WeightFile, path: &Path) -> Result<Self> {
        let invalid = |message| Error::Invalid {
            path: path.to_owned(),
            message,
        };
        match file.kind {
            ModelKind::Rbf => {
                let net = RbfNetwork::from_weights(&mut file).map_err(invalid)?;
                Ok(Self::Rbf(Arc::new(net), Arc::new(file.normaliser)))
            }
            ModelKind::Gru => {
                let (params, _config) = GruParams::from_weights(&mut file).map_err(invalid)?;
                Ok(Self::Gru(Arc::new(params), Arc::new(file.normaliser)))
            }
            ModelKind::Transformer => {
                let params = TransformerParams::from_weights(&mut file).map_err(invalid)?;
                Ok(Self::Transformer(
                    Arc::new(params),
                    Arc::new(file.normaliser),
                ))
            }
        }
    }

    /// Reads, checks and builds the model in `path` for the simulator layout `expected`.
    pub fn load(path: &Path, expected: &ObservationSpec) -> Result<Self> {
        Self::from_file(WeightFile::load(path, expected)?, path)
    }

    /// Which kind of network it is.
    pub fn kind(&self) -> ModelKind {
        match self {
            Self::Rbf(..) => ModelKind::Rbf,
            Self::Gru(..) => ModelKind::Gru,
            Self::Transformer(..) => ModelKind::Transformer,
        }
    }

    /// The observation statistics the network normalises with.
    pub fn normaliser(&self) -> &Normaliser {
        match self {
            Self::Rbf(_, n) | Self::Gru(_, n) | Self::Transformer(_, n) => n,
        }
    }

    /// A fresh controller driving with this model, a transformer's window shrunk to
    /// `window_limit` frames when given; an error names a limit outside 1…K, or one given for
    /// another kind of model.
    pub fn controller_with_window(
        &self,
        window_limit: Option<usize>,
    ) -> Result<Box<dyn MemoryController + Send>> {
        let Some(frames) = window_limit else {
            return Ok(self.controller());
        };
        match self {
            Self::Transformer(params, normaliser) => TransformerController::new(
                params.clone(),
                normaliser.clone(),
            )
            .with_window_limit(frames)
            .map(|c| Box::new(c) as Box<dyn MemoryController + Send>)
            .ok_or_else(|| {
                Error::Training(format!(
                    "a window of {frames} frames: this transformer looks back over 1 to {} frames",
                    params.window
                ))
            }),
            _ => Err(Error::Training(format!(
                "a window applies to a transformer, not to a {} model",
                self.kind().as_str()
            ))),
        }
    }

    /// A fresh controller driving with this model.
    pub fn controller(&self) -> Box<dyn MemoryController + Send> {
        match self {
            Self::Rbf(net, normaliser) => {
                Box::new(RbfController::new(net.clone(), normaliser.clone()))
            }
            Self::Gru(params, normaliser) => {
                Box::new(GruController::new(params.clone(), normaliser.clone()))
            }
            Self::Transformer(params, normaliser) => Box::new(TransformerController::new(
                params.clone(),
                normaliser.clone(),
            )),
        }
    }
}
