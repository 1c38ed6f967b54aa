//! The learner every gradient-trained kind shares: weights, optimiser and normaliser kept
//! across rounds, trained further on the aggregated data each round.

use super::*;
use crate::adam::Adam;

/// A network trained by gradient descent (the GRU, the transformer): what it gives the shared
/// `GradientLearner`.
pub trait GradientNet: Clone + Send + Sync + Sized + 'static {
    /// Its hyper-parameters.
    type Config: Clone + Serialize + Send + Sync;
    /// The kind written into weight files.
    fn kind() -> ModelKind;
    /// Fresh parameters for `inputs` observation elements.
    fn init(inputs: usize, config: &Self::Config, rng: &mut ChaCha8Rng) -> Self;
    /// Adam's learning rate and clipping norm from the config.
    fn optimiser(config: &Self::Config) -> (f32, f32);
    /// Length of every parameter tensor.
    fn tensor_lengths(&self) -> Vec<usize>;
    /// One round of gradient steps on normalised inputs and squashed targets. Returns the
    /// parameters to drive with when they are not the trained ones (an average over the
    /// round's steps); `None`: the trained ones.
    fn train_round(
        &mut self,
        adam: &mut Adam,
        config: &Self::Config,
        data: &Sequences<'_>,
        rng: &mut ChaCha8Rng,
        threads: Option<usize>,
        on_step: &mut dyn FnMut(usize, usize, f64) -> bool,
    ) -> Option<Self>;
    /// A controller driving with these parameters.
    fn controller(params: Arc<Self>, normaliser: Arc<Normaliser>) -> Box<dyn Controller + Send>;
    /// The tensors of a weight file.
    fn weight_tensors(&self) -> std::collections::BTreeMap<String, crate::weights::Tensor>;
}

/// Episodes to learn from: normalised inputs (row-major), squashed targets (2 per row), and
/// the rows of each episode.
#[derive(Clone, Copy, Debug)]
pub struct Sequences<'a> {
    /// Normalised observations, row-major.
    pub inputs: &'a [f32],
    /// Squashed expert actions, 2 per row.
    pub targets: &'a [f32],
    /// Rows of each episode.
    pub episodes: &'a [std::ops::Range<usize>],
    /// Per row, 1 when a pedestrian the car saw is hidden ahead now (auxiliary target).
    pub presence: &'a [f32],
    /// Per row, the car's own speed (m/s), as its sensors read it.
    pub speeds: &'a [f32],
    /// Per row, how far the driver's acceleration was from the label (`Dataset::mistakes`).
    pub mistakes: &'a [f32],
}

/// A gradient-trained network keeps its weights, optimiser and normaliser across rounds and
/// trains further on the aggregated data; the normaliser is fitted once, on the expert data,
/// so its inputs mean the same throughout.
pub struct GradientLearner<N: GradientNet> {
    config: N::Config,
    normaliser: Option<Arc<Normaliser>>,
    params: Option<N>,
    adam: Option<Adam>,
    shared: Option<Arc<N>>,
}

impl<N: GradientNet> GradientLearner<N> {
    /// A learner that has not yet seen data, with hyper-parameters `config` (checked).
    pub fn new(config: N::Config) -> Self {
        Self {
            config,
            normaliser: None,
            params: None,
            adam: None,
            shared: None,
        }
    }
}

impl<N: GradientNet> Learner for GradientLearner<N> {
    fn fit(
        &mut self,
        data: &Dataset,
        rng: &mut ChaCha8Rng,
        threads: Option<usize>,
        on_step: &mut dyn FnMut(usize, usize, f64) -> bool,
    ) -> Result<()> {
        let normaliser = self
            .normaliser
            .get_or_insert_with(|| Arc::new(Normaliser::fit(&data.observations, data.dim)))
            .clone();
        let params = self
            .params
            .get_or_insert_with(|| N::init(data.dim, &self.config, rng));
        let adam = self.adam.get_or_insert_with(|| {
            let (learning_rate, clip_norm) = N::optimiser(&self.config);
            Adam::new(&params.tensor_lengths(), learning_rate, clip_norm)
        });
        let inputs = normalised(&normaliser, data);
        let targets: Vec<f32> = data.targets.iter().map(|t| t.tanh()).collect();
        let speeds = data.speeds();
        let sequences = Sequences {
            inputs: &inputs,
            targets: &targets,
            episodes: &data.episodes,
            presence: &data.presence,
            speeds: &speeds,
            mistakes: &data.mistakes,
        };
        let driving = params.train_round(adam, &self.config, &sequences, rng, threads, on_step);
        self.shared = Some(Arc::new(driving.unwrap_or_else(|| params.clone())));
        Ok(())
    }

    fn controller(&self) -> Box<dyn Controller + Send> {
        match (&self.shared, &self.normaliser) {
            (Some(p), Some(n)) => N::controller(p.clone(), n.clone()),
            _ => unreachable!("controller() before fit()"),
        }
    }

    fn weight_file(
        &self,
        observation: ObservationLayout,
        training: TrainingInfo,
    ) -> Result<WeightFile> {
        let (Some(params), Some(normaliser)) = (&self.shared, &self.normaliser) else {
            return Err(Error::Training("nothing trained".into()));
        };
        Ok(WeightFile {
            kind: N::kind(),
            config: serde_json::to_value(&self.config).unwrap_or_default(),
            observation,
            normaliser: (**normaliser).clone(),
            training,
            tensors: params.weight_tensors(),
        })
    }
}

/// Elements per job of `summed_in_order`.
const SUM_CHUNK: usize = 4096;
/// Terms (parts × elements) from which `summed_in_order` splits its work among threads: a
/// transformer's batch (64 samples × 45,000 parameters) gains, an LRU's (16 × 34,000) took
/// longer split.
const PARALLEL_SUM_MIN: usize = 1 << 21;

/// The tensors of `parts` (one list of tensors per sample, all of the same shapes) summed
/// element by element: `term(p₀) + term(p₁) + …` from 0 in the parts' order, so each element
/// has the bits of a plain loop over the parts. Large sums are split among `threads` workers:
/// on one thread, summing a transformer's batch of gradients held up every step.
pub(crate) fn summed_in_order(
    parts: &[Vec<&Vec<f32>>],
    threads: Option<usize>,
    term: impl Fn(f32) -> f32 + Sync,
) -> Vec<Vec<f32>> {
    let lengths: Vec<usize> = parts
        .first()
        .map_or_else(Vec::new, |p| p.iter().map(|t| t.len()).collect());
    let jobs: Vec<(usize, std::ops::Range<usize>)> = lengths
        .iter()
        .enumerate()
        .flat_map(|(t, &len)| {
            (0..len)
                .step_by(SUM_CHUNK)
                .map(move |s| (t, s..(s + SUM_CHUNK).min(len)))
        })
        .collect();
    let sum = |(t, span): &(usize, std::ops::Range<usize>)| {
        let mut out = vec![0.0f32; span.len()];
        for part in parts {
            for (o, &b) in out.iter_mut().zip(&part[*t][span.clone()]) {
                *o += term(b);
            }
        }
        out
    };
    let sums = if parts.len() * lengths.iter().sum::<usize>() < PARALLEL_SUM_MIN {
        jobs.iter().map(sum).collect()
    } else {
        memdrive_sim::parallel::map_ordered(&jobs, threads, || (), |(), job| sum(job))
    };
    let mut totals: Vec<Vec<f32>> = lengths.iter().map(|&n| Vec::with_capacity(n)).collect();
    for ((t, _), part) in jobs.iter().zip(sums) {
        totals[*t].extend(part);
    }
    totals
}
