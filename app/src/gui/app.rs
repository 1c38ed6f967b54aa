//! The app: advances the comparison between frames and draws it. State changes (stepping,
//! loading, training) happen in plain methods that the tests call too; functions that take a
//! `Ui` only draw and collect what the user asked for.

use super::dialogs::{self, FileDialogs, Pending, Purpose};
use super::horizon_view::{self, HorizonPanel};
use super::instruments::{self, Instruments};
use super::lab::{Driver, DriverState, Lab, LaneFrame, LaneKind, load_any_driver};
use super::memory_view::{self, HISTORY_STEPS, MemoryInputs, WeightTexture};
use super::settings::{Layout, ScenarioChoice, Settings, Speed};
use super::training::{self, TrainingJob};
use super::world_view::{self, Camera, Layers};
use crate::learned;
use egui::{Color32, Key, RichText};
use memdrive_models::MemoryState;
use memdrive_models::weights::ModelKind;
use memdrive_sim::ScenarioSpec;
use memdrive_sim::scenario::all_builtins;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Steps kept for the timeline (60 s at 10 Hz).
pub const HISTORY_CAPACITY: usize = 600;
/// Height of a lane's header (its name and buttons), the same in every lane.
const LANE_HEADER_HEIGHT: f32 = 26.0;
/// Width a lane needs for its title and buttons in one row; narrower lanes put the buttons in
/// a menu. (400 px clipped "Save weights…" beside "RBF network" at 16 px.)
const LANE_BUTTONS_WIDTH: f32 = 440.0;
/// Banners shown at once; older ones are counted and can be dismissed together.
const MAX_BANNERS: usize = 4;
/// Below this window width the lanes need the room of one side panel: the instruments and the
/// training panel are not open together (px).
const NARROW_FOR_TWO_PANELS: f32 = 1400.0;
/// Wall time the app may spend stepping per frame at "as fast as possible".
const MAX_STEP_TIME: Duration = Duration::from_millis(10);

/// A message for the user, shown as a banner: an error until dismissed, information for
/// `INFO_SHOWN` (or until dismissed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// What happened.
    pub text: String,
    /// An error (red) or information.
    pub error: bool,
    /// When it was posted, in milliseconds of the app's clock.
    posted_ms: u64,
}

/// How long an information banner stays (errors stay until dismissed).
const INFO_SHOWN: Duration = Duration::from_secs(8);

/// The memdrive desktop app.
pub struct MemdriveApp {
    lab: Lab,
    settings: Settings,
    builtins: Vec<ScenarioSpec>,
    playing: bool,
    debt_s: f64,
    view_step: Option<u32>,
    cameras: Vec<Camera>,
    weight_textures: Vec<WeightTexture>,
    notices: Vec<Notice>,
    dialogs: Pending,
    training: Option<TrainingJob>,
    instruments: Instruments,
    horizon: HorizonPanel,
    frame_ms: f32,
    ctx: Option<egui::Context>,
    last_frame_s: Option<f64>,
    /// The settings as last written, to notice a change.
    saved_settings: Settings,
    save_settings_now: bool,
    /// The play state before the timeline was dragged back, restored by "Live".
    playing_before_view: Option<bool>,
    /// Play stopped because every episode ended (not the user): a restart plays again.
    paused_at_end: bool,
    /// A short-term memory copied from a lane, to transplant into another: what it is, and
    /// the memory.
    copied_memory: Option<(String, MemoryState)>,
}

impl MemdriveApp {
    /// The app as eframe creates it: settings from the last run, native dialogs.
    pub fn new(cc: &eframe::CreationContext<'_>) -> anyhow::Result<Self> {
        let settings = cc
            .storage
            .and_then(|s| eframe::get_value::<Settings>(s, eframe::APP_KEY))
            .unwrap_or_default();
        let mut app = Self::with_settings(settings, Arc::new(dialogs::NativeDialogs))?;
        app.ctx = Some(cc.egui_ctx.clone());
        Ok(app)
    }

    /// The app with the given settings and file dialogs (tests pass scripted ones).
    pub fn with_settings(
        mut settings: Settings,
        dialogs: Arc<dyn FileDialogs>,
    ) -> anyhow::Result<Self> {
        let builtins = all_builtins()?;
        let mut notices = Vec::new();
        let spec = match resolve(&settings.scenario, &builtins) {
            Ok(spec) => spec,
            Err(e) => {
                notices.push(Notice {
                    text: format!("{e:#}; opened the default scenario instead"),
                    error: true,
                    posted_ms: 0,
                });
                settings.scenario = ScenarioChoice::default();
                resolve(&settings.scenario, &builtins)?
            }
        };
        let lab = Lab::new(spec, settings.seed, settings.expert_lane, HISTORY_CAPACITY)?;
        Ok(Self {
            lab,
            builtins,
            playing: true,
            debt_s: 0.0,
            view_step: None,
            cameras: Vec::new(),
            weight_textures: Vec::new(),
            notices,
            dialogs: Pending::new(dialogs),
            training: None,
            instruments: Instruments::default(),
            horizon: HorizonPanel::default(),
            frame_ms: 0.0,
            ctx: None,
            last_frame_s: None,
            saved_settings: settings.clone(),
            save_settings_now: false,
            playing_before_view: None,
            copied_memory: None,
            paused_at_end: false,
            settings,
        })
    }

    /// The comparison.
    pub fn lab(&self) -> &Lab {
        &self.lab
    }

    /// The settings that persist between launches.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The settings, to change (as the controls do).
    pub fn settings_mut(&mut self) -> &mut Settings {
        &mut self.settings
    }

    /// Banners being shown.
    pub fn notices(&self) -> &[Notice] {
        &self.notices
    }

    /// Whether the simulation runs.
    pub fn playing(&self) -> bool {
        self.playing
    }

    /// The step the timeline shows (`None`: now).
    pub fn view_step(&self) -> Option<u32> {
        self.view_step
    }

    /// The training job, if one was started.
    pub fn training(&self) -> Option<&TrainingJob> {
        self.training.as_ref()
    }

    /// The memory instruments.
    pub fn instruments(&self) -> &Instruments {
        &self.instruments
    }

    /// The memory-horizon panel's state.
    pub fn horizon(&self) -> &HorizonPanel {
        &self.horizon
    }

    /// Measures the memory horizon of every lane not measured yet, in the background (what
    /// the panel's button does). Returns false when there was nothing to start.
    pub fn measure_horizon(&mut self) -> bool {
        let wake = self.wake();
        self.horizon.start(&self.lab, wake)
    }

    /// Whether any file dialog is still waiting for the user.
    pub fn dialog_open(&self) -> bool {
        self.dialogs.any_open()
    }

    fn notify(&mut self, text: String, error: bool) {
        let posted_ms = (self.last_frame_s.unwrap_or(0.0) * 1000.0) as u64;
        self.notices.push(Notice {
            text,
            error,
            posted_ms,
        });
    }

    /// One control step of every lane; from the moment on show when the timeline was dragged
    /// back (a branch), else from now.
    pub fn step_once(&mut self) {
        if self.branch_here() {
            self.lab.step();
        }
    }

    /// When the timeline shows a past moment, continues every lane from it (world and memory
    /// restored, the recorded future replaced) and returns to the live view. False when that
    /// moment could not be restored (shown as an error; nothing changes).
    pub fn branch_here(&mut self) -> bool {
        let Some(step) = self.view_step else {
            return true;
        };
        match self.lab.resume_from(step) {
            Ok(()) => {
                self.view_step = None;
                self.playing_before_view = None;
                self.notify(
                    format!(
                        "resumed every world from {:.1} s: what had followed is replaced",
                        f64::from(step) * memdrive_sim::world::DT_SECS
                    ),
                    false,
                );
                true
            }
            Err(e) => {
                self.notify(format!("could not resume from step {step}: {e:#}"), true);
                false
            }
        }
    }

    /// Wipes the short-term memory of lane `index`, at the moment on show (a branch from
    /// there when it is in the past).
    pub fn forget(&mut self, index: usize) {
        if self.branch_here() {
            self.lab.forget(index);
        }
    }

    /// Copies the short-term memory of lane `index` (at the moment on show) for a later
    /// transplant.
    pub fn copy_memory(&mut self, index: usize) {
        // The lane's own time: its episode may have ended before the others'.
        let step = match self.view_step {
            Some(s) => self.lab.moment(s).and_then(|m| m.lanes.get(index)),
            None => None,
        }
        .map_or_else(
            || self.lab.lanes().get(index).map_or(0, |l| l.world.steps()),
            |f| f.world.steps(),
        );
        let state = match self.view_step {
            Some(s) => self
                .lab
                .moment(s)
                .and_then(|m| match &m.lanes.get(index)?.state {
                    DriverState::Learned(state) => Some(state.clone()),
                    DriverState::Expert(_) => None,
                }),
            None => self.lab.memory_state(index),
        };
        if let Some(state) = state {
            let label = format!(
                "{} at {:.1} s of {} seed {}",
                self.lane_title(index),
                f64::from(step) * memdrive_sim::world::DT_SECS,
                self.lab.spec().name,
                self.lab.seed()
            );
            self.notify(format!("copied the memory of {label}"), false);
            self.copied_memory = Some((label, state));
        }
    }

    /// What `copy_memory` copied, described.
    pub fn copied_memory(&self) -> Option<&str> {
        self.copied_memory.as_ref().map(|(label, _)| label.as_str())
    }

    /// Puts the memory of lane `from` (`None`: the copied memory) into lane `into` at the moment
    /// on show (a branch from there when it is in the past). A memory that does not fit is
    /// refused with a message, and nothing changes.
    pub fn transplant(&mut self, from: Option<usize>, into: usize) {
        let state = match from {
            Some(i) => self.lab.memory_state(i),
            None => self.copied_memory.as_ref().map(|(_, s)| s.clone()),
        };
        let Some(state) = state else { return };
        // Taken before the branch, so a past moment gives its memory as it was then.
        let state = match (from, self.view_step) {
            (Some(i), Some(step)) => match self.lab.moment(step).and_then(|m| m.lanes.get(i)) {
                Some(LaneFrame {
                    state: DriverState::Learned(s),
                    ..
                }) => s.clone(),
                _ => state,
            },
            _ => state,
        };
        if !self.branch_here() {
            return;
        }
        let source = match from {
            Some(i) => self.lane_title(i),
            None => self.copied_memory().unwrap_or_default().to_owned(),
        };
        match self.lab.implant(into, &state) {
            Ok(()) => self.notify(
                format!(
                    "{} now drives on the memory of {source}",
                    self.lane_title(into)
                ),
                false,
            ),
            Err(e) => self.notify(format!("could not transplant: {e:#}"), true),
        }
    }

    /// Restarts every lane.
    pub fn reset(&mut self) {
        self.view_step = None;
        self.playing_before_view = None;
        self.debt_s = 0.0;
        self.lab.reset();
    }

    /// Switches to scenario `choice`; on failure keeps everything and shows why.
    pub fn select_scenario(&mut self, choice: ScenarioChoice) {
        match resolve(&choice, &self.builtins) {
            Ok(spec) => {
                if let ScenarioChoice::File(path) = &choice
                    && !self.settings.scenario_files.contains(path)
                {
                    self.settings.scenario_files.push(path.clone());
                }
                self.settings.scenario = choice;
                self.view_step = None;
                self.lab.restart_with(spec, self.settings.seed);
            }
            Err(e) => self.notify(format!("{e:#}"), true),
        }
    }

    /// With a memory-gap scenario, a slider for how long the pedestrian stays hidden.
    fn gap_ui(&mut self, ui: &mut egui::Ui) {
        let Some(gap) = self.lab.spec().memory_gap.as_ref() else {
            return;
        };
        let (mut gap_s, drawn) = if gap.gap_s.is_range() {
            (2.0, true)
        } else {
            (gap.gap_s.min(), false)
        };
        ui.separator();
        ui.label("Gap");
        // Narrow, so that the top bar keeps to one row at 1280 px.
        ui.spacing_mut().slider_width = 48.0;
        let response = ui
            .add(
                egui::Slider::new(&mut gap_s, 0.2..=10.0)
                    .step_by(0.1)
                    // While the file's range is in force the gap is drawn per seed: say so
                    // rather than show a number that is not the one in play.
                    .custom_formatter(move |v, _| {
                        if drawn {
                            "per seed".to_owned()
                        } else {
                            format!("{v:.1} s")
                        }
                    }),
            )
            .on_hover_text(if drawn {
                "Seconds the pedestrian stays hidden while the car waits: now drawn per seed \
                 (0.2-8 s); set one to watch each controller at that gap. Restarts the episode."
            } else {
                "Seconds the pedestrian stays hidden while the car waits (memory_gap.gap_s). \
                 Restarts the episode."
            });
        if response.drag_stopped() || (response.changed() && !response.dragged()) {
            self.set_gap(gap_s);
        }
        if !drawn
            && ui
                .small_button("Per seed")
                .on_hover_text("Draw the gap for each seed again, from the scenario's own range (restarts the episode)")
                .clicked()
        {
            self.gap_per_seed();
        }
    }

    /// Back to the scenario's own gap (drawn per seed in `memory_gap`): the scenario as chosen,
    /// without the Gap slider's value. Restarts the episode.
    pub fn gap_per_seed(&mut self) {
        self.select_scenario(self.settings.scenario.clone());
    }

    /// Restarts the memory-gap scenario with the pedestrian hidden for `gap_s` seconds; an
    /// impossible gap is shown as an error and changes nothing.
    pub fn set_gap(&mut self, gap_s: f64) {
        let set = memdrive_sim::scenario::Override::parse(&format!("memory_gap.gap_s={gap_s}"));
        match set.and_then(|o| self.lab.spec().with_overrides(&[o])) {
            Ok(spec) => {
                self.view_step = None;
                self.lab.restart_with(spec, self.settings.seed);
            }
            Err(e) => self.notify(format!("{e}"), true),
        }
    }

    /// Restarts with `seed`.
    pub fn set_seed(&mut self, seed: u64) {
        self.settings.seed = seed;
        self.view_step = None;
        self.lab.restart_with(self.lab.spec().clone(), seed);
    }

    /// Loads weights from `path` into lane `index` (what "Load weights…" does with the
    /// dialog's answer). A file that fails any check leaves the lane as it was and shows the
    /// error.
    pub fn load_weights(&mut self, index: usize, path: &Path) {
        if !matches!(
            self.lab.lanes().get(index).map(|l| l.kind),
            Some(LaneKind::Learned(_))
        ) {
            return;
        }
        // Any kind of model may drive any learned lane: the lane takes the file's kind.
        match load_any_driver(path) {
            Ok(driver) => {
                let kind = match &driver {
                    Driver::Learned { model, .. } => LaneKind::Learned(model.kind()).title(),
                    _ => LaneKind::Expert.title(),
                };
                self.install_at(
                    index,
                    driver,
                    format!(
                        "loaded {} into lane {} (now: {kind}; all lanes restarted)",
                        path.display(),
                        index + 1
                    ),
                );
            }
            Err(e) => self.notify(format!("could not load weights: {e:#}"), true),
        }
    }

    /// Drives lane `index` with `driver`, whatever its kind (restarting every lane), and says so.
    fn install_at(&mut self, index: usize, driver: Driver, message: String) {
        if self.lab.replace_driver_at(index, driver).is_ok() {
            self.view_step = None;
            self.notify(message, false);
        }
    }

    /// The title of lane `index`: its kind, numbered when another lane has the same kind.
    pub fn lane_title(&self, index: usize) -> String {
        let Some(lane) = self.lab.lanes().get(index) else {
            return String::new();
        };
        self.lab.numbered(index, lane.kind.title())
    }

    /// Puts the finished training result into lane `index`, whatever kind that lane drove.
    pub fn use_trained_in(&mut self, index: usize) {
        let Some(job) = &self.training else { return };
        let training::Status::Finished(file) = &job.status else {
            return;
        };
        let source = Path::new("<trained in the app>");
        match Driver::learned((**file).clone(), source) {
            Ok(driver) => self.install_at(
                index,
                driver,
                format!("lane {} now drives the newly trained weights", index + 1),
            ),
            Err(e) => self.notify(format!("{e}"), true),
        }
    }

    /// Drives the lane of `kind` with `driver` (restarting every lane) and says so.
    fn install(&mut self, kind: ModelKind, driver: Driver, message: String) {
        if self
            .lab
            .replace_driver(LaneKind::Learned(kind), driver)
            .is_ok()
        {
            self.view_step = None;
            self.notify(message, false);
        }
    }

    /// Shrinks (or restores) the window of transformer lane `index` to `frames` and restarts
    /// every lane; an impossible request is shown and changes nothing.
    pub fn set_window(&mut self, index: usize, frames: usize) {
        match self.lab.set_window(index, frames) {
            Ok(()) => self.view_step = None,
            Err(e) => self.notify(format!("could not change the window: {e:#}"), true),
        }
    }

    /// Saves lane `index`'s weights to `path` (what "Save weights…" does).
    pub fn save_weights(&mut self, index: usize, path: &Path) {
        let Some(file) = self
            .lab
            .lanes()
            .get(index)
            .and_then(|l| l.weight_file())
            .cloned()
        else {
            return;
        };
        match file.save(path) {
            Ok(()) => self.notify(format!("saved {}", path.display()), false),
            Err(e) => self.notify(format!("could not save weights: {e}"), true),
        }
    }

    /// Opens a scenario file (what "Open scenario file…" does).
    pub fn open_scenario(&mut self, path: &Path) {
        self.select_scenario(ScenarioChoice::File(path.to_owned()));
    }

    /// Puts the finished training result into the comparison.
    pub fn use_trained(&mut self) {
        let Some(job) = &self.training else { return };
        let training::Status::Finished(file) = &job.status else {
            return;
        };
        let kind = file.kind;
        let lane = self
            .lab
            .lanes()
            .iter()
            .position(|l| l.kind == LaneKind::Learned(kind));
        let source = Path::new("<trained in the app>");
        match Driver::learned((**file).clone(), source) {
            Ok(driver) => {
                let which = lane.map_or_else(String::new, |i| {
                    format!("lane {} ({})", i + 1, self.lane_title(i))
                });
                self.install(
                    kind,
                    driver,
                    format!("{which} now drives with the newly trained weights"),
                );
            }
            Err(e) => self.notify(format!("{e}"), true),
        }
    }

    fn save_trained(&mut self, path: &Path) {
        let Some(job) = &self.training else { return };
        let training::Status::Finished(file) = &job.status else {
            return;
        };
        match file.save(path) {
            Ok(()) => self.notify(format!("saved {}", path.display()), false),
            Err(e) => self.notify(format!("could not save weights: {e}"), true),
        }
    }

    /// Shows the recorded moment at `step` (pausing while it does); `None` returns to now
    /// and to the play state from before.
    pub fn view(&mut self, step: Option<u32>) {
        self.view_step = step.filter(|&s| s < self.lab.step_count());
        if self.view_step.is_some() {
            if self.playing_before_view.is_none() {
                self.playing_before_view = Some(self.playing);
            }
            self.playing = false;
        } else if let Some(playing) = self.playing_before_view.take() {
            self.playing = playing;
        }
    }

    /// Adds or removes the expert lane. The expert is replayed up to the current step, so the
    /// other worlds keep their time.
    pub fn set_expert_lane(&mut self, expert: bool) {
        self.settings.expert_lane = expert;
        self.view_step = None;
        self.playing_before_view = None;
        self.lab.set_expert(expert);
    }

    fn wake(&self) -> impl Fn() + Clone + Send + 'static {
        let ctx = self.ctx.clone();
        move || {
            if let Some(ctx) = &ctx {
                ctx.request_repaint();
            }
        }
    }

    fn open_dialog(
        &mut self,
        purpose: Purpose,
        title: String,
        filter: dialogs::Filter,
        save_as: Option<String>,
    ) {
        let wake = self.wake();
        self.dialogs.open(purpose, title, filter, save_as, wake);
    }

    /// Acts on dialog answers and training progress.
    fn poll(&mut self) {
        for (purpose, path) in self.dialogs.answered() {
            match purpose {
                Purpose::LoadWeights(i) => self.load_weights(i, &path),
                Purpose::SaveWeights(i) => self.save_weights(i, &path),
                Purpose::OpenScenario => self.open_scenario(&path),
                Purpose::SaveTrained => self.save_trained(&path),
            }
        }
        if let Some(job) = &mut self.training
            && let Some(failure) = job.poll()
        {
            self.notify(failure, true);
        }
        let wake = self.wake();
        self.instruments.update(
            &self.lab,
            &wake,
            self.settings.ghosts || self.settings.instruments_open,
            self.settings.instruments_open,
        );
        for failure in self.instruments.take_failures() {
            self.notify(failure, true);
        }
        self.horizon.poll();
        for failure in self.horizon.take_failures() {
            self.notify(failure, true);
        }
    }

    /// Advances the simulation by `dt_s` of wall time at the chosen speed.
    fn advance(&mut self, dt_s: f64) {
        // Stopped at the end of the episodes and restarted since (Reset, a new seed, scenario,
        // gap, window or weights): play on, as the user would expect.
        if self.paused_at_end && !self.lab.finished() {
            self.paused_at_end = false;
            self.playing = true;
        }
        if !self.playing || self.view_step.is_some() {
            self.debt_s = 0.0;
            return;
        }
        if self.lab.finished() {
            self.playing = false;
            self.paused_at_end = true;
            return;
        }
        let started = Instant::now();
        match self.settings.speed.factor() {
            Some(factor) => {
                self.debt_s += dt_s * factor;
                // Never more than a second of simulation per frame, whatever the hiccup.
                self.debt_s = self.debt_s.min(factor.max(1.0));
                while self.debt_s >= memdrive_sim::world::DT_SECS && self.lab.step() {
                    self.debt_s -= memdrive_sim::world::DT_SECS;
                    if started.elapsed() > MAX_STEP_TIME * 2 {
                        break;
                    }
                }
            }
            None => while started.elapsed() < MAX_STEP_TIME && self.lab.step() {},
        }
    }

    /// When the next frame is due if nothing else (input, a finished job) asks for one
    /// earlier: the next simulation step at the chosen speed, a few times a second while
    /// training reports progress, never while nothing changes.
    fn next_repaint(&self) -> Option<Duration> {
        let mut next: Option<Duration> = None;
        let mut sooner = |d: Duration| next = Some(next.map_or(d, |n| n.min(d)));
        if self.playing && self.view_step.is_none() && !self.lab.finished() {
            match self.settings.speed.factor() {
                Some(factor) => {
                    let wall_s = (memdrive_sim::world::DT_SECS - self.debt_s).max(0.0) / factor;
                    sooner(Duration::from_secs_f64(wall_s));
                }
                None => sooner(Duration::ZERO),
            }
        }
        if self.training.as_ref().is_some_and(TrainingJob::running) {
            sooner(Duration::from_millis(250));
        }
        if self.instruments.catching_up() {
            sooner(Duration::from_millis(16));
        }
        // The next information banner to go.
        let now_ms = (self.last_frame_s.unwrap_or(0.0) * 1000.0) as u64;
        if let Some(posted) = self
            .notices
            .iter()
            .filter(|n| !n.error)
            .map(|n| n.posted_ms)
            .min()
        {
            let gone = posted + INFO_SHOWN.as_millis() as u64;
            sooner(Duration::from_millis(gone.saturating_sub(now_ms)));
        }
        next
    }

    fn keyboard(&mut self, ui: &egui::Ui) {
        if ui.ctx().egui_wants_keyboard_input() {
            return;
        }
        let (space, right, r) = ui.input(|i| {
            (
                i.key_pressed(Key::Space),
                i.key_pressed(Key::ArrowRight),
                i.key_pressed(Key::R),
            )
        });
        if space {
            self.toggle_play();
        }
        if right {
            self.playing = false;
            self.step_once();
        }
        if r {
            self.reset();
        }
    }

    fn toggle_play(&mut self) {
        self.playing_before_view = None;
        self.paused_at_end = false;
        if !self.playing && !self.branch_here() {
            return;
        }
        self.playing = !self.playing;
        if self.playing && self.lab.finished() {
            self.reset();
        }
    }

    /// The top bar: one row at 1280 points, wrapping (never hiding) when narrower.
    fn controls_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal_wrapped(|ui| {
            let label = if self.playing { "Pause" } else { "Play" };
            if ui.button(label).on_hover_text("Run or pause the simulation (Space)").clicked() {
                self.toggle_play();
            }
            if ui.button("Step").on_hover_text("One control step of 0.1 s in every world (Right arrow)").clicked() {
                self.playing = false;
                self.step_once();
            }
            if ui.button("Reset").on_hover_text("Restart every world at step 0 (R)").clicked() {
                self.reset();
            }
            ui.separator();
            let speed = &mut self.settings.speed;
            egui::ComboBox::from_label("Speed")
                .selected_text(speed.label())
                .width(56.0)
                .show_ui(ui, |ui| {
                    for s in Speed::ALL {
                        ui.selectable_value(speed, s, s.label());
                    }
                })
                .response
                .on_hover_text("Simulated seconds per second of wall time");
            ui.separator();
            self.scenario_picker_ui(ui);
            ui.separator();
            ui.label("Seed");
            let mut seed = self.settings.seed;
            let response = ui
                .add(egui::DragValue::new(&mut seed))
                .on_hover_text("Seed of the episode: the same seed gives the same worlds");
            if response.changed() && seed != self.settings.seed {
                self.set_seed(seed);
            }
            if ui.button("New seed").on_hover_text("Draw another episode of this scenario").clicked() {
                let next = self.settings.seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407) % 1_000_000;
                self.set_seed(next);
            }
            self.gap_ui(ui);
            ui.separator();
            let mut expert = self.settings.expert_lane;
            if ui
                .checkbox(&mut expert, "Expert lane")
                .on_hover_text("Add the privileged expert (perfect memory) as a fourth lane; it is replayed up to the current step, so no world restarts")
                .changed()
            {
                self.set_expert_lane(expert);
            }
            ui.menu_button("View", |ui| {
                ui.checkbox(&mut self.settings.hidden_truth, "Show hidden truth")
                    .on_hover_text("Draw actors the car cannot see now as faint outlines, with when it last saw them");
                ui.checkbox(&mut self.settings.rays, "Lidar rays")
                    .on_hover_text("Draw each lidar beam, coloured by what it hit");
                ui.checkbox(&mut self.settings.legend, "Legend")
                    .on_hover_text("A key to the colours and shapes in each world view");
                ui.checkbox(&mut self.settings.ghosts, "Belief ghosts")
                    .on_hover_text("Draw where each controller's state says the hidden pedestrian is (a linear readout fitted on held-out episodes); the circle is the readout's error at this time since it was last seen");
                ui.separator();
                ui.label("Layout");
                for l in [Layout::Columns, Layout::Grid] {
                    ui.radio_value(&mut self.settings.layout, l, l.label())
                        .on_hover_text("How the lanes are arranged; every lane stays on screen");
                }
            })
            .response
            .on_hover_text("What the world views draw, and how the lanes are arranged");
            // Below 1400 px the lanes need the room of one side panel: opening one closes the other.
            let narrow = ui.ctx().content_rect().width() < NARROW_FOR_TWO_PANELS;
            if ui
                .toggle_value(&mut self.settings.instruments_open, "Instruments")
                .on_hover_text("Show the memory instruments: memory curves, belief probe, influence by lag (in a window narrower than 1400 px, instead of the training panel)")
                .changed()
                && self.settings.instruments_open
                && narrow
            {
                self.settings.training_open = false;
            }
            if ui
                .toggle_value(&mut self.settings.training_open, "Training")
                .on_hover_text("Show the training panel (in a window narrower than 1400 px, instead of the instruments)")
                .changed()
                && self.settings.training_open
                && narrow
            {
                self.settings.instruments_open = false;
            }
        });
    }

    /// The scenario picker: built-ins, then scenario files opened before, then "Open…".
    fn scenario_picker_ui(&mut self, ui: &mut egui::Ui) {
        let current = self.settings.scenario.clone();
        let mut chosen = None;
        egui::ComboBox::from_label("Scenario")
            .selected_text(current.label())
            .width(150.0)
            .truncate()
            .show_ui(ui, |ui| {
                for spec in &self.builtins {
                    let choice = ScenarioChoice::Builtin(spec.name.clone());
                    if ui
                        .selectable_label(current == choice, &spec.name)
                        .on_hover_text(&spec.description)
                        .clicked()
                    {
                        chosen = Some(choice);
                    }
                }
                if !self.settings.scenario_files.is_empty() {
                    ui.separator();
                }
                for path in &self.settings.scenario_files {
                    let choice = ScenarioChoice::File(path.clone());
                    if ui
                        .selectable_label(current == choice, choice.label())
                        .on_hover_text(path.display().to_string())
                        .clicked()
                    {
                        chosen = Some(choice);
                    }
                }
            })
            .response
            .on_hover_text("Every world restarts on the same seed; scenario files opened before are listed after the built-ins");
        if let Some(choice) = chosen {
            self.select_scenario(choice);
        }
        if ui
            .button("Open…")
            .on_hover_text("Open scenario file… (TOML); it joins the picker")
            .clicked()
        {
            self.open_dialog(
                Purpose::OpenScenario,
                "Open scenario file".into(),
                dialogs::SCENARIOS,
                None,
            );
        }
    }

    /// Banners, newest last, as a stack over the bottom of the lanes, just above the timeline at
    /// `bottom`: they never move the layout, and never hide the lanes' buttons.
    fn notices_ui(&mut self, ctx: &egui::Context, bottom: f32) {
        if self.notices.is_empty() {
            return;
        }
        let mut dismissed = None;
        let mut dismiss_all = false;
        let width = (ctx.content_rect().width() - 40.0).clamp(200.0, 760.0);
        egui::Area::new(egui::Id::unique("banners"))
            .order(egui::Order::Foreground)
            .anchor(
                egui::Align2::CENTER_BOTTOM,
                egui::vec2(0.0, bottom - ctx.content_rect().bottom() - 6.0),
            )
            .interactable(true)
            .show(ctx, |ui| {
                ui.set_max_width(width);
                let shown = self.notices.len().saturating_sub(MAX_BANNERS);
                if shown > 0 {
                    ui.horizontal(|ui| {
                        ui.label(
                            RichText::new(format!("{shown} older messages"))
                                .color(Color32::WHITE)
                                .background_color(Color32::from_black_alpha(200)),
                        );
                        if ui
                            .button("Dismiss all")
                            .on_hover_text("Hide every message")
                            .clicked()
                        {
                            dismiss_all = true;
                        }
                    });
                }
                for (i, notice) in self.notices.iter().enumerate().skip(shown) {
                    let fill = if notice.error {
                        Color32::from_rgb(110, 30, 30)
                    } else {
                        Color32::from_rgb(30, 70, 45)
                    };
                    egui::Frame::new()
                        .fill(fill)
                        .inner_margin(6.0)
                        .corner_radius(4.0)
                        .shadow(ui.visuals().popup_shadow)
                        .show(ui, |ui| {
                            ui.set_width(width - 12.0);
                            ui.horizontal(|ui| {
                                if ui
                                    .button("Dismiss")
                                    .on_hover_text("Hide this message")
                                    .clicked()
                                {
                                    dismissed = Some(i);
                                }
                                ui.add(
                                    egui::Label::new(
                                        RichText::new(&notice.text).color(Color32::WHITE),
                                    )
                                    .wrap(),
                                );
                            });
                        });
                    ui.add_space(4.0);
                }
            });
        if dismiss_all {
            self.notices.clear();
        } else if let Some(i) = dismissed {
            self.notices.remove(i);
        }
    }

    /// The lanes whose episode ended in a collision: title, step, and what was hit and known.
    fn collisions(&self) -> Vec<(String, u32, String)> {
        self.lab
            .lanes()
            .iter()
            .enumerate()
            .filter_map(|(i, lane)| {
                let c = lane.world.collision()?;
                Some((
                    self.lane_title(i),
                    lane.world.steps(),
                    world_view::collision_text(c),
                ))
            })
            .collect()
    }

    fn timeline_ui(&mut self, ui: &mut egui::Ui) {
        let Some(first) = self.lab.history().front().map(|m| m.step) else {
            return;
        };
        let now = self.lab.step_count();
        ui.horizontal(|ui| {
            let label = ui.label("Timeline");
            let mut step = self.view_step.unwrap_or(now);
            let collisions = self.collisions();
            // Room for the labels after the rail, the collision line included when there is one.
            let labels = if collisions.is_empty() { 460.0 } else { 820.0 };
            ui.spacing_mut().slider_width = (ui.available_width() - labels).max(100.0);
            let response = ui
                .add(egui::Slider::new(&mut step, first..=now.max(first + 1)).suffix(" step"))
                .labelled_by(label.id)
                .on_hover_text("Drag back to see every world and memory panel as they were");
            if response.changed() {
                self.view(Some(step));
            }
            // The rail alone: the slider's rectangle also holds its value box.
            let rail = egui::Rect::from_min_size(
                response.rect.min,
                egui::vec2(
                    ui.spacing().slider_width.min(response.rect.width()),
                    response.rect.height(),
                ),
            );
            if ui
                .add_enabled(self.view_step.is_some(), egui::Button::new("Live"))
                .on_hover_text("Back to now")
                .clicked()
            {
                self.view(None);
            }
            match self.lab.divergence_step() {
                Some(d) => ui.label(format!("trajectories diverge at {:.1} s", f64::from(d) * 0.1)),
                None => ui.label("trajectories still together"),
            }
            .on_hover_text(format!(
                "The first step at which two learned controllers' cars were more than {} m apart (red mark)",
                super::lab::DIVERGENCE_M
            ));
            if let Some((title, step, text)) = collisions.first() {
                let all: Vec<String> = collisions
                    .iter()
                    .map(|(t, s, c)| format!("{t} at {:.1} s: {c}", f64::from(*s) * 0.1))
                    .collect();
                ui.label(
                    RichText::new(format!(
                        "{title} collided at {:.1} s: {text}",
                        f64::from(*step) * 0.1
                    ))
                    .color(Color32::from_rgb(255, 150, 80)),
                )
                .on_hover_text(format!(
                    "Every collision (orange marks): what was hit and what the car's sensors knew of it — in view, forgotten (seen before, then hidden) or never seen\n{}",
                    all.join("\n")
                ));
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                ui.label(RichText::new(format!("{:.1} ms/frame", self.frame_ms)).monospace().small())
                    .on_hover_text("Time the app spent on the last frames (stepping and drawing), smoothed");
            });
            // Marks on the rail: collisions, and where trajectories diverged.
            let span = (now.max(first + 1) - first) as f32;
            let handle = ui.spacing().interact_size.y / 2.0;
            let width = (rail.width() - 2.0 * handle).max(1.0);
            let marks = collisions
                .iter()
                .map(|&(_, step, _)| (step, Color32::from_rgb(255, 150, 80)))
                .chain(
                    self.lab
                        .divergence_step()
                        .map(|d| (d, Color32::from_rgb(255, 80, 80))),
                );
            for (step, color) in marks.filter(|&(step, _)| step >= first) {
                let x = rail.min.x + handle + width * (step - first) as f32 / span;
                ui.painter().line_segment(
                    [egui::pos2(x, rail.min.y), egui::pos2(x, rail.max.y)],
                    egui::Stroke::new(3.0, color),
                );
            }
        });
    }

    /// The lanes in a fixed grid that fills the central panel: every lane gets an equal cell,
    /// so none is ever pushed out of the window whatever its content.
    fn lanes_ui(&mut self, ui: &mut egui::Ui) {
        let lanes = self.lab.lanes().len();
        self.cameras.resize(lanes, Camera::default());
        self.weight_textures
            .resize_with(lanes, WeightTexture::default);
        let per_row = match self.settings.layout {
            Layout::Columns => lanes,
            Layout::Grid => 2,
        }
        .clamp(1, lanes.max(1));
        let rows = lanes.div_ceil(per_row).max(1);
        let area = ui.available_rect_before_wrap();
        let gap = 8.0;
        let cell = egui::vec2(
            ((area.width() - gap * (per_row - 1) as f32) / per_row as f32).max(1.0),
            ((area.height() - gap * (rows - 1) as f32) / rows as f32).max(1.0),
        );
        let mut actions = Vec::new();
        for index in 0..lanes {
            let (row, col) = (index / per_row, index % per_row);
            let min =
                area.min + egui::vec2(col as f32 * (cell.x + gap), row as f32 * (cell.y + gap));
            let rect = egui::Rect::from_min_size(min, cell);
            let mut child = ui.new_child(
                egui::UiBuilder::new()
                    .max_rect(rect)
                    .id_salt(("lane", index))
                    .layout(egui::Layout::top_down(egui::Align::Min)),
            );
            // A cell clips what does not fit rather than drawing over its neighbour.
            child.set_clip_rect(rect.intersect(ui.clip_rect()));
            actions.extend(self.lane_ui(&mut child, index, cell.y));
        }
        ui.allocate_rect(area, egui::Sense::hover());
        for action in actions {
            match action {
                LaneAction::Window(i, frames) => self.set_window(i, frames),
                LaneAction::Forget(i) => self.forget(i),
                LaneAction::Copy(i) => self.copy_memory(i),
                LaneAction::Transplant(from, into) => self.transplant(from, into),
                LaneAction::Load(i) => {
                    let title = format!("Load weights into {}", self.lane_title(i));
                    self.open_dialog(Purpose::LoadWeights(i), title, dialogs::WEIGHTS, None);
                }
                LaneAction::Save(i) => {
                    let lane = &self.lab.lanes()[i];
                    let name = match lane.kind {
                        LaneKind::Learned(k) => format!("{}.safetensors", k.as_str()),
                        LaneKind::Expert => "expert.safetensors".into(),
                    };
                    let title = format!("Save the weights of {}", self.lane_title(i));
                    self.open_dialog(Purpose::SaveWeights(i), title, dialogs::WEIGHTS, Some(name));
                }
            }
        }
    }

    fn lane_ui(&mut self, ui: &mut egui::Ui, index: usize, height: f32) -> Vec<LaneAction> {
        let mut actions = Vec::new();
        let step = self.view_step.unwrap_or(self.lab.step_count());
        let lane = &self.lab.lanes()[index];
        let kind = lane.kind;
        let title = self.lane_title(index);
        let Some(moment) = self.lab.moment(step) else {
            return actions;
        };
        let frame = &moment.lanes[index];
        // The header has one height whatever it holds (the outcome badge is in the world view),
        // so every lane's world starts at the same height; a lane too narrow for the buttons
        // gathers them in a menu.
        let width = ui.available_width();
        ui.allocate_ui_with_layout(
            egui::vec2(width, LANE_HEADER_HEIGHT),
            egui::Layout::left_to_right(egui::Align::Center),
            |ui| {
                ui.set_min_size(egui::vec2(width, LANE_HEADER_HEIGHT));
                ui.add(
                    egui::Label::new(RichText::new(title.as_str()).strong().size(16.0))
                        .truncate(),
                );
                if let LaneKind::Learned(_) = kind {
                    // Lanes whose memory fits this one's: the same kind of network.
                    let donors: Vec<(usize, String)> = (0..self.lab.lanes().len())
                        .filter(|&i| i != index && self.lab.lanes()[i].kind == kind)
                        .map(|i| (i, self.lane_title(i)))
                        .collect();
                    let copied = self.copied_memory().map(str::to_owned);
                    let memory_menu = |ui: &mut egui::Ui, actions: &mut Vec<LaneAction>| {
                        if ui
                            .button("Copy memory")
                            .on_hover_text("Keep this controller's short-term memory at the moment on show, to transplant it later (e.g. after changing the seed)")
                            .clicked()
                        {
                            actions.push(LaneAction::Copy(index));
                            ui.close();
                        }
                        ui.separator();
                        ui.label("Transplant memory from:");
                        for (i, title) in &donors {
                            if ui
                                .button(title.as_str())
                                .on_hover_text("Copy that lane's short-term memory into this one at the moment on show; from then on this controller drives on what the other remembers")
                                .clicked()
                            {
                                actions.push(LaneAction::Transplant(Some(*i), index));
                                ui.close();
                            }
                        }
                        if let Some(label) = &copied
                            && ui
                                .button(format!("the copied memory ({label})"))
                                .on_hover_text("Put the copied memory into this controller at the moment on show (a memory of another kind or size is refused)")
                                .clicked()
                        {
                            actions.push(LaneAction::Transplant(None, index));
                            ui.close();
                        }
                        if donors.is_empty() && copied.is_none() {
                            ui.small("No other lane of this kind, and nothing copied yet");
                        }
                    };
                    let buttons = |ui: &mut egui::Ui, actions: &mut Vec<LaneAction>| {
                        if ui
                            .button("Forget")
                            .on_hover_text("Clear short-term / working memory at the moment on show (the weights stay); in the past, the worlds go on from there")
                            .clicked()
                        {
                            actions.push(LaneAction::Forget(index));
                        }
                        ui.menu_button("Memory", |ui| memory_menu(ui, actions))
                            .response
                            .on_hover_text("Copy this controller's short-term memory, or transplant another's into it");
                        if ui
                            .button("Load weights…")
                            .on_hover_text("Replace this controller's weights with a .safetensors file (restarts all worlds)")
                            .clicked()
                        {
                            actions.push(LaneAction::Load(index));
                        }
                        if ui
                            .button("Save weights…")
                            .on_hover_text("Save this controller's weights as a .safetensors file")
                            .clicked()
                        {
                            actions.push(LaneAction::Save(index));
                        }
                    };
                    // Decided on the lane's width, not what its title leaves, so every lane of
                    // a layout shows its buttons the same way.
                    if width >= LANE_BUTTONS_WIDTH {
                        buttons(ui, &mut actions);
                    } else {
                        ui.menu_button("…", |ui| buttons(ui, &mut actions))
                            .response
                            .on_hover_text("Forget, load or save this controller's weights");
                    }
                }
            },
        );
        let world_height = (height * 0.4).clamp(110.0, 380.0);
        let layers = Layers {
            hidden_truth: self.settings.hidden_truth,
            rays: self.settings.rays,
            legend: self.settings.legend,
        };
        let size = egui::vec2(ui.available_width(), world_height);
        let ghost = match (lane.identified_model(), &frame.memory) {
            (Some((id, model)), Some(snapshot)) if self.settings.ghosts => self
                .instruments
                .ghost(id, model, snapshot, &frame.world)
                .map(|g| {
                    let name = match kind {
                        LaneKind::Learned(k) => k.as_str(),
                        LaneKind::Expert => "expert",
                    };
                    (g, instruments::controller_color(name))
                }),
            _ => None,
        };
        world_view::ui(
            ui,
            &frame.world,
            &mut self.cameras[index],
            layers,
            size,
            &format!("{title} world"),
            ghost,
        );
        let presence = match (lane.identified_model(), &frame.memory) {
            (Some((id, model)), Some(snapshot)) if self.settings.ghosts => {
                Some(self.instruments.presence(id, model, snapshot))
            }
            _ => None,
        };
        if let Some(p) = presence {
            ui.horizontal(|ui| presence_gauge_ui(ui, p, self.instruments.presence_pending()));
        }
        if let Some((now, trained)) = lane.window() {
            ui.horizontal_wrapped(|ui| {
                let mut frames = now;
                let response = ui
                    .add(egui::Slider::new(&mut frames, 1..=trained).text("frames"))
                    .on_hover_text(format!(
                        "The transformer's window: the last K frames it attends to (trained with {trained}). Shrink it and the worlds restart: it forgets everything older, and the memory horizon moves in."
                    ));
                ui.add(
                    egui::Label::new(RichText::new(format!("= {:.1} s", now as f64 * 0.1)).small())
                        .extend(),
                );
                if response.changed() && frames != now {
                    actions.push(LaneAction::Window(index, frames));
                }
            });
        }
        let inputs = MemoryInputs {
            kind,
            recent: self
                .lab
                .moments_up_to(step, HISTORY_STEPS)
                .map(|m| &m.lanes[index])
                .collect(),
            long_term: lane.long_term().map(Arc::as_ref),
            forgotten_at: &lane.forgotten_at,
            window: lane.window().map(|(now, _)| now),
        };
        egui::ScrollArea::vertical()
            .id_salt(("memory", index))
            .auto_shrink([false, false])
            .show(ui, |ui| {
                memory_view::ui(ui, &inputs, &mut self.weight_textures[index]);
            });
        actions
    }

    fn training_ui(&mut self, ui: &mut egui::Ui) {
        let wake = self.wake();
        let lanes: Vec<(usize, String)> = self
            .lab
            .lanes()
            .iter()
            .enumerate()
            .filter(|(_, l)| matches!(l.kind, LaneKind::Learned(_)))
            .map(|(i, _)| (i, self.lane_title(i)))
            .collect();
        let action = training::ui(
            ui,
            &mut self.settings.train,
            &mut self.training,
            &lanes,
            wake,
        );
        match action {
            training::Action::None => {}
            training::Action::UseInComparison => self.use_trained(),
            training::Action::UseInLane(index) => self.use_trained_in(index),
            training::Action::Save => {
                let name = self
                    .training
                    .as_ref()
                    .map_or("model", |j| j.request.kind.as_str());
                self.open_dialog(
                    Purpose::SaveTrained,
                    "Save trained weights".into(),
                    dialogs::WEIGHTS,
                    Some(format!("{name}.safetensors")),
                );
            }
        }
    }
}

/// The presence gauge of a lane: how sure its controller is, read from its memory by the
/// presence probe, that a pedestrian it saw is hidden now.
fn presence_gauge_ui(ui: &mut egui::Ui, p: Option<f64>, pending: bool) {
    let hover = "The presence probe: a logistic readout from this controller's memory to \"a pedestrian it saw is hidden now\", fitted on its own driving of memory_gap (half the episodes with nobody there). A controller without memory reads the same whether or not someone hides.";
    match p {
        Some(p) => {
            ui.label("someone hidden:").on_hover_text(hover);
            ui.add(
                egui::ProgressBar::new(p as f32)
                    .desired_width(64.0)
                    .text(format!("{:.0}%", 100.0 * p)),
            )
            .on_hover_text(hover);
        }
        None if pending => {
            ui.small("someone hidden: fitting…").on_hover_text(hover);
        }
        None => {}
    }
}

/// What a lane's buttons asked for.
enum LaneAction {
    Window(usize, usize),
    Forget(usize),
    Copy(usize),
    /// From lane `.0` (`None`: the copied memory) into lane `.1`.
    Transplant(Option<usize>, usize),
    Load(usize),
    Save(usize),
}

/// The scenario a choice names, checked to suit the learned controllers' sensors.
fn resolve(choice: &ScenarioChoice, builtins: &[ScenarioSpec]) -> anyhow::Result<ScenarioSpec> {
    let spec = match choice {
        ScenarioChoice::Builtin(name) => builtins
            .iter()
            .find(|s| &s.name == name)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("no built-in scenario is called `{name}`"))?,
        ScenarioChoice::File(path) => ScenarioSpec::from_file(path)?,
    };
    learned::check_layout(&spec)?;
    Ok(spec)
}

impl eframe::App for MemdriveApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let started = Instant::now();
        if self.ctx.is_none() {
            self.ctx = Some(ui.ctx().clone());
        }
        self.poll();
        self.keyboard(ui);
        // Wall time since the last frame, from egui's clock (the tests' harness advances it by
        // its step); a long pause between frames counts as at most a quarter second.
        let now_s = ui.input(|i| i.time);
        let dt = self
            .last_frame_s
            .map_or(0.0, |t| (now_s - t).clamp(0.0, 0.25));
        self.last_frame_s = Some(now_s);
        let now_ms = (now_s * 1000.0) as u64;
        let shown_ms = INFO_SHOWN.as_millis() as u64;
        self.notices
            .retain(|n| n.error || now_ms.saturating_sub(n.posted_ms) < shown_ms);
        self.advance(dt);
        egui::Panel::top("controls").show(ui, |ui| self.controls_ui(ui));
        let timeline_top = egui::Panel::bottom("timeline")
            .show(ui, |ui| self.timeline_ui(ui))
            .response
            .rect
            .top();
        let width = ui.ctx().content_rect().width();
        // A window made narrow with both side panels open keeps the training panel only.
        if width < NARROW_FOR_TWO_PANELS
            && self.settings.instruments_open
            && self.settings.training_open
        {
            self.settings.instruments_open = false;
        }
        if self.settings.instruments_open {
            let step = self.view_step.unwrap_or(self.lab.step_count());
            let (mut run_noise, mut run_horizon) = (false, false);
            egui::Panel::right("instruments")
                .default_size(340.0)
                .max_size((width * 0.32).max(220.0))
                .show(ui, |ui| {
                    egui::ScrollArea::vertical().show(ui, |ui| {
                        run_noise = instruments::panel_ui(ui, &self.instruments, &self.lab, step);
                        ui.separator();
                        run_horizon = horizon_view::ui(ui, &self.horizon, &self.lab);
                    });
                });
            if run_noise {
                let wake = self.wake();
                self.instruments.run_noise_probe(&self.lab, wake);
            }
            if run_horizon {
                self.measure_horizon();
            }
        }
        if self.settings.training_open {
            egui::Panel::right("training")
                .default_size(300.0)
                .max_size((width * 0.3).max(220.0))
                .show(ui, |ui| {
                    egui::ScrollArea::vertical().show(ui, |ui| self.training_ui(ui));
                });
        }
        egui::CentralPanel::default().show(ui, |ui| self.lanes_ui(ui));
        let ctx = ui.ctx().clone();
        self.notices_ui(&ctx, timeline_top);
        if let Some(after) = self.next_repaint() {
            ctx.request_repaint_after(after);
        }
        if self.settings != self.saved_settings {
            // Settings are written when they change, not only at exit: a killed app keeps them.
            self.saved_settings = self.settings.clone();
            self.save_settings_now = true;
        }
        let ms = started.elapsed().as_secs_f32() * 1000.0;
        self.frame_ms = if self.frame_ms == 0.0 {
            ms
        } else {
            0.9 * self.frame_ms + 0.1 * ms
        };
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.settings);
        self.save_settings_now = false;
    }

    fn auto_save_interval(&self) -> Duration {
        // eframe asks after every frame; a changed setting is written at once, otherwise
        // rarely.
        if self.save_settings_now {
            Duration::ZERO
        } else {
            Duration::from_secs(30)
        }
    }
}
