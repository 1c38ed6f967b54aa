//! The live memory curve: readouts fitted in the background on the controller's own driving,
//! scored on the episode on screen step by step.

use super::*;

impl Instruments {
    /// Live readouts for models without them on this scenario.
    pub(super) fn start_readouts(
        &mut self,
        lab: &Lab,
        models: &[(usize, String, ModelId, Model)],
        wake: &(impl Fn() + Clone + Send + 'static),
    ) {
        let key = lab.scenario_key();
        for (_, _, id, model) in models {
            let job = Job::Readouts(*id, key);
            if self.readouts.contains_key(&(*id, key)) || !self.start(job) {
                continue;
            }
            let (model, id, spec) = (model.clone(), *id, lab.spec().clone());
            background(
                job,
                "fitting the memory readouts",
                self.queue.ticket(),
                wake.clone(),
                move || {
                    let rec = fitting_recording(&model, &spec);
                    if rec.is_empty() {
                        return None;
                    }
                    let elements = memory::curve_elements(&crate::learned::builtin_layout());
                    let state = LagReadouts::fit(&rec, &elements, DEFAULT_LAGS);
                    // The same readouts from the observation itself: how much of the past the
                    // present frame alone gives away (the world is predictable); memory is
                    // what a controller reads beyond it.
                    let observed = Recording {
                        state_dim: rec.input_dim,
                        states: rec.inputs.clone(),
                        ..rec
                    };
                    let present = LagReadouts::fit(&observed, &elements, DEFAULT_LAGS);
                    Some(Message::Readouts(
                        id,
                        key,
                        Box::new(Readouts { state, present }),
                    ))
                },
            );
        }
    }

    /// Scores the steps recorded since the last frame on each learned lane's live curve.
    pub(super) fn score(&mut self, lab: &Lab, models: &[(usize, String, ModelId, Model)]) {
        let key = lab.scenario_key();
        let Some(first) = lab.history().front().map(|m| m.step) else {
            return;
        };
        let mut state = Vec::new();
        self.backlog = false;
        // A lane renamed or given other weights leaves no line behind.
        self.curves.retain(|c| {
            models
                .iter()
                .any(|(_, n, id, _)| *n == c.name && *id == c.id)
        });
        for (index, name, id, model) in models {
            let Some(readouts) = self.readouts.get(&(*id, key)) else {
                // Still fitting for this scenario: a curve left from the one before is stale.
                self.curves.retain(|c| c.name != *name);
                continue;
            };
            let fresh = |episode| LaneCurve {
                id: *id,
                name: name.clone(),
                episode,
                readouts: readouts.clone(),
                curve: LiveCurve::new(&readouts.state),
                present: LiveCurve::new(&readouts.present),
                next_step: 0,
            };
            let position = self.curves.iter().position(|c| c.name == *name);
            let lane = match position {
                Some(p)
                    if self.curves[p].id == *id
                        && self.curves[p].episode == lab.episode()
                        && Arc::ptr_eq(&self.curves[p].readouts, readouts) =>
                {
                    &mut self.curves[p]
                }
                Some(p) => {
                    self.curves[p] = fresh(lab.episode());
                    &mut self.curves[p]
                }
                None => {
                    self.curves.push(fresh(lab.episode()));
                    let last = self.curves.len() - 1;
                    &mut self.curves[last]
                }
            };
            if lane.next_step < first {
                lane.curve.break_here();
                lane.present.break_here();
                lane.next_step = first;
            }
            state.resize(memory::state_dim(model), 0.0);
            let skip = (lane.next_step - first) as usize;
            self.backlog |= lab.history().len() > skip + LIVE_STEPS_PER_FRAME;
            for moment in lab.history().iter().skip(skip).take(LIVE_STEPS_PER_FRAME) {
                lane.next_step = moment.step + 1;
                let Some(frame) = moment.lanes.get(*index) else {
                    continue;
                };
                // The episode of this lane has ended: nothing more to score.
                let Some(snapshot) = &frame.memory else {
                    continue;
                };
                memory::state_vector(snapshot, &mut state);
                let observed = frame.world.observation().values();
                lane.curve.push(&lane.readouts.state, &state, observed);
                lane.present
                    .push(&lane.readouts.present, observed, observed);
            }
        }
        self.curves.sort_by_key(|c| {
            models
                .iter()
                .position(|(_, n, _, _)| *n == c.name)
                .unwrap_or(usize::MAX)
        });
    }

    /// Live memory curves of this episode, per learned lane in lane order: (controller,
    /// R²(k) for k = 0…L, `None` where nothing is scored yet), once `MIN_LIVE_STEPS` are in.
    pub fn live(&self) -> Vec<(String, Vec<Option<f64>>)> {
        self.curves
            .iter()
            .filter(|c| c.curve.steps() >= MIN_LIVE_STEPS)
            .map(|c| (c.name.clone(), c.curve.r2(&c.readouts.state)))
            .collect()
    }

    /// The same curve from the observation of the moment alone, averaged over the lanes: how
    /// much of the past the present frame gives away without any memory.
    pub fn present_alone(&self) -> Option<Vec<Option<f64>>> {
        let curves: Vec<Vec<Option<f64>>> = self
            .curves
            .iter()
            .filter(|c| c.present.steps() >= MIN_LIVE_STEPS)
            .map(|c| c.present.r2(&c.readouts.present))
            .collect();
        let lags = curves.first()?.len();
        Some(
            (0..lags)
                .map(|k| {
                    let known: Vec<f64> = curves.iter().filter_map(|c| c[k]).collect();
                    (!known.is_empty()).then(|| known.iter().sum::<f64>() / known.len() as f64)
                })
                .collect(),
        )
    }

    /// The lanes whose live readouts are still being fitted, by name.
    pub fn live_pending(&self, lab: &Lab) -> Vec<String> {
        let key = lab.scenario_key();
        learned_models(lab)
            .into_iter()
            .filter(|(_, _, id, _)| {
                !self.readouts.contains_key(&(*id, key))
                    && !self.failed.contains(&Job::Readouts(*id, key))
            })
            .map(|(_, name, _, _)| name)
            .collect()
    }

    /// Where the live curves stand, for the one line under the plot.
    pub fn live_status(&self, lab: &Lab) -> LiveStatus {
        let models = learned_models(lab);
        if models.is_empty() {
            return LiveStatus::Unavailable("no learned controller is driving".into());
        }
        let key = lab.scenario_key();
        if models
            .iter()
            .any(|(_, _, id, _)| self.failed.contains(&Job::Readouts(*id, key)))
        {
            return LiveStatus::Unavailable("fitting the readouts failed (see the banner)".into());
        }
        if models
            .iter()
            .any(|(_, _, id, _)| !self.readouts.contains_key(&(*id, key)))
        {
            return LiveStatus::Fitting(self.scenario.clone());
        }
        // A lane whose car crashed early stops scoring: the curves are ready as soon as one
        // of them has the steps (the others are drawn as far as they go).
        let scored = self
            .curves
            .iter()
            .filter(|c| c.episode == lab.episode())
            .map(|c| c.curve.steps())
            .max()
            .unwrap_or(0);
        if scored < MIN_LIVE_STEPS {
            LiveStatus::Waiting(scored)
        } else {
            LiveStatus::Ready
        }
    }
}
