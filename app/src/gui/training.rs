//! Training from the app: a model is fitted on a background thread while the UI shows its
//! progress and loss, and can cancel it. The job is plain data; `ui` draws the panel.

use memdrive_models::train::{
    Monitor, Phase, RoundReport, StepReport, TrainOptions, bundled_options, train_kind,
};
use memdrive_models::weights::{ModelKind, WeightFile};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

/// What the user asks for.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainRequest {
    /// Which network.
    pub kind: ModelKind,
    /// DAgger rounds after behaviour cloning.
    pub rounds: u32,
    /// Seed of the initialisation.
    pub seed: u64,
    /// Episodes per scenario per round.
    pub episodes: u64,
    /// Episodes per round of the scenarios named here, instead of `episodes`.
    #[serde(default)]
    pub scenario_episodes: std::collections::BTreeMap<String, u64>,
    /// Scenarios the expert drives in the DAgger rounds too (`--expert-driven`).
    #[serde(default)]
    pub expert_driven: std::collections::BTreeSet<String>,
    /// Changes to scenarios trained on, by scenario (`--set NAME:PATH=VALUE`), as text.
    #[serde(default)]
    pub scenario_overrides: std::collections::BTreeMap<String, Vec<String>>,
}

impl TrainRequest {
    /// The recipe of the bundled weights of `kind` (`memdrive_models::train::bundled_options`).
    pub fn bundled(kind: ModelKind) -> Self {
        let options = bundled_options(kind);
        Self {
            kind,
            rounds: options.rounds,
            seed: options.seed,
            episodes: options.episodes_per_scenario,
            scenario_episodes: options.scenario_episodes,
            expert_driven: options.expert_driven,
            scenario_overrides: options
                .scenario_overrides
                .into_iter()
                .map(|(name, sets)| (name, sets.into_iter().map(|o| o.text).collect()))
                .collect(),
        }
    }
}

impl Default for TrainRequest {
    fn default() -> Self {
        Self {
            kind: ModelKind::default(),
            rounds: 3,
            seed: 0,
            // Fewer than `memdrive train`'s 40 so a run in the app takes a minute or two.
            episodes: 20,
            scenario_episodes: std::collections::BTreeMap::new(),
            expert_driven: std::collections::BTreeSet::new(),
            scenario_overrides: std::collections::BTreeMap::new(),
        }
    }
}

/// Messages from the training thread.
enum Event {
    Phase(u32, Phase),
    Step(StepReport),
    Round(RoundReport),
    Done(Result<WeightFile, memdrive_models::Error>),
    Panicked(String),
}

/// Sends progress to the UI and reads the cancel flag.
struct ChannelMonitor {
    tx: Sender<Event>,
    cancel: Arc<AtomicBool>,
    episodes_done: Arc<AtomicUsize>,
    wake: Box<dyn Fn() + Send>,
}

impl Monitor for ChannelMonitor {
    fn phase(&mut self, round: u32, phase: Phase) {
        if let Phase::Collecting { .. } = phase {
            self.episodes_done.store(0, Ordering::Relaxed);
        }
        let _ = self.tx.send(Event::Phase(round, phase));
        (self.wake)();
    }

    fn episode_counter(&self) -> Option<Arc<AtomicUsize>> {
        Some(self.episodes_done.clone())
    }

    fn round(&mut self, report: &RoundReport) {
        let _ = self.tx.send(Event::Round(report.clone()));
        (self.wake)();
    }

    fn step(&mut self, report: &StepReport) {
        let _ = self.tx.send(Event::Step(*report));
        // Waking the UI for every step would repaint hundreds of times a second.
        if report.step.is_multiple_of(25) {
            (self.wake)();
        }
    }

    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// Where a job stands.
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    /// Still working.
    Running,
    /// Finished: the weights are ready.
    Finished(Arc<WeightFile>),
    /// Stopped by the user.
    Cancelled,
    /// Failed, with the message.
    Failed(String),
}

/// One training run in the background.
pub struct TrainingJob {
    /// What was asked.
    pub request: TrainRequest,
    rx: Receiver<Event>,
    cancel: Arc<AtomicBool>,
    /// Every optimiser step so far: (step over the whole run, loss).
    pub step_losses: Vec<[f64; 2]>,
    /// Optimiser steps per round, once known (networks trained by gradient descent).
    pub steps_per_round: Option<usize>,
    /// Every round so far.
    pub rounds: Vec<RoundReport>,
    /// Share done, 0..1.
    pub progress: f32,
    /// Where it stands.
    pub status: Status,
    /// The round and phase running now, once the run has begun.
    pub phase: Option<(u32, Phase)>,
    /// The latest optimiser step of the phase (step, steps).
    fit_step: Option<(usize, usize)>,
    episodes_done: Arc<AtomicUsize>,
    started: Instant,
}

/// Share of a round's time each phase takes, roughly (collecting, fitting, scoring), for the
/// overall progress bar; within a phase progress is counted, not guessed.
const PHASE_SHARE: [f32; 3] = [0.35, 0.55, 0.10];

impl TrainingJob {
    /// Starts training on a worker thread; `wake` asks the UI to repaint.
    pub fn start(request: TrainRequest, wake: impl Fn() + Send + 'static) -> Self {
        let (tx, rx) = channel();
        let cancel = Arc::new(AtomicBool::new(false));
        let episodes_done = Arc::new(AtomicUsize::new(0));
        let mut monitor = ChannelMonitor {
            tx: tx.clone(),
            cancel: cancel.clone(),
            episodes_done: episodes_done.clone(),
            wake: Box::new(wake),
        };
        let job = request.clone();
        std::thread::spawn(move || {
            // A bug in training must end the run, not the app: the panic becomes a failure.
            let result =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&job, &mut monitor)));
            let event = match result {
                Ok(result) => Event::Done(result),
                Err(panic) => Event::Panicked(super::instruments::panic_text(&panic)),
            };
            let _ = tx.send(event);
            (monitor.wake)();
        });
        Self {
            request,
            rx,
            cancel,
            step_losses: Vec::new(),
            steps_per_round: None,
            rounds: Vec::new(),
            progress: 0.0,
            status: Status::Running,
            phase: None,
            fit_step: None,
            episodes_done,
            started: Instant::now(),
        }
    }

    /// Progress within the current phase, 0..1, when it can be counted: episodes driven while
    /// collecting, optimiser steps while fitting a network trained by gradient descent.
    pub fn phase_progress(&self) -> Option<f32> {
        match self.phase? {
            (_, Phase::Collecting { episodes }) => Some(
                self.episodes_done.load(Ordering::Relaxed).min(episodes) as f32
                    / episodes.max(1) as f32,
            ),
            (_, Phase::Fitting) => self
                .fit_step
                .map(|(step, steps)| (step + 1) as f32 / steps.max(1) as f32),
            (_, Phase::Scoring) => None,
        }
    }

    /// What the run is doing, in words: "round 2 of 4: collecting episodes (37 of 100)".
    pub fn phase_text(&self) -> String {
        let Some((round, phase)) = self.phase else {
            return "starting…".into();
        };
        let of = self.request.rounds + 1;
        let what = if round == 0 {
            "behaviour cloning"
        } else {
            "DAgger"
        };
        let doing = match phase {
            Phase::Collecting { episodes } => format!(
                "collecting episodes ({} of {episodes})",
                self.episodes_done.load(Ordering::Relaxed).min(episodes)
            ),
            Phase::Fitting => match self.fit_step {
                Some((step, steps)) => format!("fitting (step {} of {steps})", step + 1),
                None => "fitting".into(),
            },
            Phase::Scoring => "scoring the fit".into(),
        };
        format!("round {} of {of} ({what}): {doing}", round + 1)
    }

    /// Share of the whole run done, 0..1: finished rounds plus the current one's phases.
    fn overall(&self) -> f32 {
        let Some((round, phase)) = self.phase else {
            return 0.0;
        };
        let within = self.phase_progress().unwrap_or(0.5);
        let in_round = match phase {
            Phase::Collecting { .. } => PHASE_SHARE[0] * within,
            Phase::Fitting => PHASE_SHARE[0] + PHASE_SHARE[1] * within,
            Phase::Scoring => PHASE_SHARE[0] + PHASE_SHARE[1] + PHASE_SHARE[2] * within,
        };
        (round as f32 + in_round) / (self.request.rounds + 1) as f32
    }

    /// Time left, estimated from the time taken so far and the share done; `None` until the
    /// estimate means something.
    pub fn time_left(&self) -> Option<Duration> {
        let done = self.overall();
        let elapsed = self.started.elapsed().as_secs_f32();
        (self.running() && done > 0.03 && elapsed > 2.0)
            .then(|| Duration::from_secs_f32(elapsed * (1.0 - done) / done))
    }

    /// Asks the thread to stop at its next step.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// Takes in what the thread reported since the last call. Returns a message for a banner
    /// when the run failed.
    pub fn poll(&mut self) -> Option<String> {
        let mut failure = None;
        while let Ok(event) = self.rx.try_recv() {
            match event {
                Event::Phase(round, phase) => {
                    self.phase = Some((round, phase));
                    self.fit_step = None;
                }
                Event::Step(s) => {
                    let x = f64::from(s.round) * s.steps as f64 + s.step as f64;
                    self.step_losses.push([x, s.loss]);
                    self.steps_per_round = Some(s.steps);
                    self.fit_step = Some((s.step, s.steps));
                }
                Event::Round(r) => self.rounds.push(r),
                Event::Done(Ok(file)) => {
                    self.progress = 1.0;
                    self.status = Status::Finished(Arc::new(file));
                }
                Event::Done(Err(memdrive_models::Error::Cancelled)) => {
                    self.status = Status::Cancelled;
                }
                Event::Done(Err(e)) => {
                    failure = Some(format!("training failed: {e}"));
                    self.status = Status::Failed(e.to_string());
                }
                Event::Panicked(message) => {
                    let text = format!("training stopped by an internal error: {message}");
                    failure = Some(text.clone());
                    self.status = Status::Failed(text);
                }
            }
        }
        if self.running() {
            self.progress = self.overall();
        }
        failure
    }

    /// Whether the thread is still working.
    pub fn running(&self) -> bool {
        self.status == Status::Running
    }
}

fn run(
    request: &TrainRequest,
    monitor: &mut ChannelMonitor,
) -> Result<WeightFile, memdrive_models::Error> {
    // Leave a core to the UI; results do not depend on the thread count.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get().saturating_sub(1))
        .max(1);
    let options = TrainOptions {
        seed: request.seed,
        rounds: request.rounds,
        episodes_per_scenario: request.episodes,
        scenario_episodes: request.scenario_episodes.clone(),
        expert_driven: request.expert_driven.clone(),
        scenario_overrides: request
            .scenario_overrides
            .iter()
            .map(|(name, sets)| {
                let parsed = sets
                    .iter()
                    .map(|text| memdrive_sim::scenario::Override::parse(text))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((name.clone(), parsed))
            })
            .collect::<Result<_, memdrive_sim::Error>>()?,
        threads: Some(threads),
    };
    let specs = options.scenarios()?;
    train_kind(request.kind, None, &specs, &options, monitor).map(|(file, _)| file)
}

/// What the user did in the panel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Nothing.
    None,
    /// Put the finished model into the comparison, in the lane of its kind.
    UseInComparison,
    /// Put the finished model into lane `n`, whatever kind that lane drove before.
    UseInLane(usize),
    /// Save the finished model through the dialog.
    Save,
}

/// The training panel: settings, start/cancel, progress and the loss plot.
pub fn ui(
    ui: &mut egui::Ui,
    request: &mut TrainRequest,
    job: &mut Option<TrainingJob>,
    lanes: &[(usize, String)],
    wake: impl Fn() + Send + 'static,
) -> Action {
    let mut action = Action::None;
    let running = job.as_ref().is_some_and(TrainingJob::running);
    ui.heading("Training");
    ui.add_enabled_ui(!running, |ui| {
        // Wrapped, outside the grid: five kinds in one row would push a narrow panel wider
        // than the window (at 1024 px it was cut off on the left).
        ui.horizontal_wrapped(|ui| {
            ui.label("Model");
            for &kind in ModelKind::all() {
                ui.selectable_value(&mut request.kind, kind, kind.as_str())
                    .on_hover_text(format!("Train a new {}: {}", kind.title(), kind.summary()));
            }
        });
        egui::Grid::new("training settings")
            .num_columns(2)
            .show(ui, |ui| {
                ui.label("Rounds");
                ui.add(egui::DragValue::new(&mut request.rounds).range(0..=10))
                    .on_hover_text("DAgger rounds after behaviour cloning");
                ui.end_row();
                ui.label("Episodes");
                ui.add(egui::DragValue::new(&mut request.episodes).range(1..=400))
                    .on_hover_text("Training episodes per scenario in each round");
                ui.end_row();
                ui.label("Per scenario");
                if request.scenario_episodes.is_empty() {
                    ui.label("the same for all");
                } else {
                    let counts: Vec<String> = request
                        .scenario_episodes
                        .iter()
                        .map(|(name, n)| format!("{name} {n}"))
                        .collect();
                    ui.add(egui::Label::new(counts.join(", ")).wrap());
                }
                ui.end_row();
                if !request.expert_driven.is_empty() || !request.scenario_overrides.is_empty() {
                    ui.label("Also");
                    let mut parts = Vec::new();
                    if !request.expert_driven.is_empty() {
                        let names: Vec<&str> =
                            request.expert_driven.iter().map(String::as_str).collect();
                        parts.push(format!("the expert drives {}", names.join(", ")));
                    }
                    for (name, sets) in &request.scenario_overrides {
                        parts.push(format!("{name} with {}", sets.join(", ")));
                    }
                    ui.add(egui::Label::new(parts.join("; ")).wrap())
                        .on_hover_text(
                            "From the bundled recipe: scenarios the expert drives in every \
                             round, and changes to scenarios trained on",
                        );
                    ui.end_row();
                }
                ui.label("Seed");
                ui.add(egui::DragValue::new(&mut request.seed))
                    .on_hover_text(
                        "Seed of the initialisation: the same seed gives the same weights",
                    );
                ui.end_row();
            });
        ui.horizontal_wrapped(|ui| {
            if ui
                .button("Bundled recipe")
                .on_hover_text(
                    "Use the rounds, seed, episode counts and scenario changes the bundled \
                     weights of this model were trained with",
                )
                .clicked()
            {
                *request = TrainRequest::bundled(request.kind);
            }
            let differs = !request.scenario_episodes.is_empty()
                || !request.expert_driven.is_empty()
                || !request.scenario_overrides.is_empty();
            if differs
                && ui
                    .button("Same for all")
                    .on_hover_text(
                        "Train every scenario alike: on the episode count above, as it is, \
                         the learner driving in the DAgger rounds",
                    )
                    .clicked()
            {
                request.scenario_episodes.clear();
                request.expert_driven.clear();
                request.scenario_overrides.clear();
            }
        });
    });
    ui.horizontal(|ui| {
        if running {
            if ui
                .button("Cancel training")
                .on_hover_text("Stop the run at its next step")
                .clicked()
                && let Some(j) = job.as_ref()
            {
                j.cancel();
            }
        } else if ui
            .button("Start training")
            .on_hover_text("Train on expert demonstrations, then DAgger rounds, in the background")
            .clicked()
        {
            *job = Some(TrainingJob::start(request.clone(), wake));
        }
    });
    let Some(job) = job else {
        ui.label("Training runs in the background; the comparison keeps driving.");
        return action;
    };
    let left = job.time_left().map_or_else(String::new, |d| {
        format!(", about {} left", duration_text(d))
    });
    ui.add(
        egui::ProgressBar::new(job.progress).text(format!("{:.0}%{left}", job.progress * 100.0)),
    )
    .on_hover_text("The whole run: every round's collecting, fitting and scoring");
    match &job.status {
        Status::Running => {
            ui.label(format!(
                "training {}: {}",
                job.request.kind.as_str(),
                job.phase_text()
            ));
            let within = job.phase_progress();
            ui.add(
                egui::ProgressBar::new(within.unwrap_or(0.0))
                    .desired_height(6.0)
                    .animate(within.is_none()),
            )
            .on_hover_text("This phase (moving when its progress cannot be counted)");
        }
        Status::Cancelled => {
            ui.label("cancelled");
        }
        Status::Failed(message) => {
            ui.colored_label(ui.visuals().error_fg_color, message);
        }
        Status::Finished(_) => {
            ui.label(format!("finished: {} ready", job.request.kind.as_str()));
            // Wrapped: in a narrow panel the three buttons would push it wider than the window.
            ui.horizontal_wrapped(|ui| {
                if ui
                    .button("Use in comparison")
                    .on_hover_text("Drive the lane of this kind with the new weights (restarts)")
                    .clicked()
                {
                    action = Action::UseInComparison;
                }
                ui.menu_button("Use in lane…", |ui| {
                    for (index, title) in lanes {
                        if ui
                            .button(format!("Use in {title}"))
                            .on_hover_text("This lane drives the new model, whatever kind it drove before (restarts)")
                            .clicked()
                        {
                            action = Action::UseInLane(*index);
                            ui.close();
                        }
                    }
                });
                if ui
                    .button("Save trained…")
                    .on_hover_text("Save the new weights as a .safetensors file")
                    .clicked()
                {
                    action = Action::Save;
                }
            });
        }
    }
    if let Some(note) = job.request.kind.training_note() {
        ui.small(note);
    } else if job.step_losses.is_empty() {
        ui.small("The loss of every optimiser step appears here once fitting starts.");
    }
    for r in &job.rounds {
        ui.label(format!(
            "round {}: {} samples, loss {:.4} (mean predictor {:.4})",
            r.round, r.samples, r.loss, r.baseline_loss
        ));
    }
    egui_plot::Plot::new("training loss")
        .height(160.0)
        // A kind fitted without optimiser steps (the RBF) plots one loss per round.
        .x_axis_label(if job.steps_per_round.is_some() {
            "optimiser step"
        } else {
            "round"
        })
        .y_axis_label("loss")
        .allow_scroll(false)
        .show(ui, |plot| {
            // Every optimiser step, as a line and (while there are few) as points, so a short
            // run shows as more than a couple of dots.
            plot.line(egui_plot::Line::new("batch loss", job.step_losses.clone()));
            if job.step_losses.len() <= 200 {
                plot.points(
                    egui_plot::Points::new("batch loss steps", job.step_losses.clone()).radius(1.5),
                );
            }
            // Each round's loss over the data so far (a sample of their episodes once they are
            // large), at the step where the round ended (at its index for the RBF, which has
            // no optimiser steps).
            let rounds: Vec<[f64; 2]> = job
                .rounds
                .iter()
                .map(|r| {
                    let x = job
                        .steps_per_round
                        .map_or(f64::from(r.round), |n| f64::from(r.round + 1) * n as f64);
                    [x, r.loss]
                })
                .collect();
            plot.points(egui_plot::Points::new("round loss", rounds).radius(4.0));
        });
    action
}

/// "1 min 20 s", "45 s".
fn duration_text(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{} min {:02} s", s / 60, s % 60)
    } else {
        format!("{s} s")
    }
}
