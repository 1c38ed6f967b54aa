//! The belief probe: where the nearest hidden pedestrian is, read from the state, scored by
//! time since it was last seen.

use super::*;

/// The belief probe's result.
#[derive(Clone, Debug, Serialize)]
pub struct Belief {
    /// Centre of each time-since-seen bin with held-out samples (s).
    pub time_since_seen_s: Vec<f64>,
    /// Mean distance between the decoded and the true position in each bin (m).
    pub error_m: Vec<f64>,
    /// The same for always guessing the mean training position: what "no memory" scores.
    pub baseline_m: Vec<f64>,
    /// Held-out samples in each bin.
    pub samples: Vec<usize>,
    /// The readout (state → position ahead, position left), for drawing ghosts.
    #[serde(skip)]
    pub readout: Option<Ridge>,
}

/// Fits the belief probe on the first part of `rec`'s episodes and scores it on the rest.
pub fn belief_probe(rec: &Recording) -> Belief {
    let boundary = rec.held_out_start();
    let rows = |range: Range<usize>| -> Vec<usize> {
        range.filter(|&t| rec.hidden[t].is_some()).collect()
    };
    let (train, test) = (rows(0..boundary), rows(boundary..rec.len()));
    let empty = Belief {
        time_since_seen_s: Vec::new(),
        error_m: Vec::new(),
        baseline_m: Vec::new(),
        samples: Vec::new(),
        readout: None,
    };
    if train.len() < 20 || test.is_empty() {
        return empty;
    }
    let target = |rows: &[usize]| {
        DMatrix::from_fn(rows.len(), 2, |r, c| {
            rec.hidden[rows[r]].map_or(0.0, |h| h.relative_m[c])
        })
    };
    let ridge = Ridge::fit(
        &gather(&rec.states, rec.state_dim, &train, None),
        &target(&train),
    );
    let predicted = ridge.predict(&gather(&rec.states, rec.state_dim, &test, None));
    let train_targets = target(&train);
    let mean = [
        train_targets.column(0).mean(),
        train_targets.column(1).mean(),
    ];
    let mut sums = [[0.0f64; 2]; BELIEF_BINS];
    let mut counts = [0usize; BELIEF_BINS];
    for (r, &t) in test.iter().enumerate() {
        let Some(h) = rec.hidden[t] else { continue };
        let bin = (h.time_since_seen_s / BELIEF_BIN_S) as usize;
        if bin >= BELIEF_BINS {
            continue;
        }
        let distance = |p: [f32; 2]| {
            f64::from(p[0] - h.relative_m[0]).hypot(f64::from(p[1] - h.relative_m[1]))
        };
        sums[bin][0] += distance([predicted[(r, 0)], predicted[(r, 1)]]);
        sums[bin][1] += distance(mean);
        counts[bin] += 1;
    }
    let kept: Vec<usize> = (0..BELIEF_BINS).filter(|&b| counts[b] > 0).collect();
    Belief {
        time_since_seen_s: kept
            .iter()
            .map(|&b| (b as f64 + 0.5) * BELIEF_BIN_S)
            .collect(),
        error_m: kept
            .iter()
            .map(|&b| sums[b][0] / counts[b] as f64)
            .collect(),
        baseline_m: kept
            .iter()
            .map(|&b| sums[b][1] / counts[b] as f64)
            .collect(),
        samples: kept.iter().map(|&b| counts[b]).collect(),
        readout: Some(ridge),
    }
}
