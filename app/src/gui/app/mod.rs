//! The app: advances the comparison between frames and draws it. State changes (stepping,
//! loading, training) happen in plain methods that the tests call too; functions that take a
//! `Ui` only draw and collect what the user asked for.

mod banners;
mod controls;
mod lanes;
mod memory_ops;
mod scenario;
mod timeline;
mod weights;

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
/// a row of their own. (Forget, Memory and Weights fit beside "RBF network" at 16 px in 330 px.)
const LANE_BUTTONS_WIDTH: f32 = 330.0;
/// What the title may take of a lane wide enough for its buttons beside it.
const LANE_TITLE_WIDTH: f32 = 110.0;
/// The narrowest lane whose buttons get a row of their own under its title (narrower: a menu).
const LANE_BUTTONS_ROW_WIDTH: f32 = 210.0;
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
        let spec = match scenario::resolve(&settings.scenario, &builtins) {
            Ok(spec) => spec,
            Err(e) => {
                notices.push(Notice {
                    text: format!("{e:#}; opened the default scenario instead"),
                    error: true,
                    posted_ms: 0,
                });
                settings.scenario = ScenarioChoice::default();
                scenario::resolve(&settings.scenario, &builtins)?
            }
        };
        let (spec, gap_error) = scenario::gapped(spec, &mut settings.gap_s);
        notices.extend(gap_error.map(|text| Notice {
            text,
            error: true,
            posted_ms: 0,
        }));
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

    /// Restarts every lane.
    pub fn reset(&mut self) {
        self.view_step = None;
        self.playing_before_view = None;
        self.debt_s = 0.0;
        self.lab.reset();
    }

    /// Shrinks (or restores) the window of transformer lane `index` to `frames` and restarts
    /// every lane; an impossible request is shown and changes nothing.
    pub fn set_window(&mut self, index: usize, frames: usize) {
        match self.lab.set_window(index, frames) {
            Ok(()) => self.view_step = None,
            Err(e) => self.notify(format!("could not change the window: {e:#}"), true),
        }
    }

    /// Switches part of learned lane `index`'s memory off (`Some(id)`) or back on (`None`) and
    /// restarts every lane; an impossible request is shown and changes nothing.
    pub fn set_ablation(&mut self, index: usize, ablation: Option<&str>) {
        match self.lab.set_ablation(index, ablation) {
            Ok(()) => self.view_step = None,
            Err(e) => self.notify(format!("could not switch the ablation: {e:#}"), true),
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
        // Stop as the last episode ends, not on some later frame (none may come).
        if self.lab.finished() {
            self.playing = false;
            self.paused_at_end = true;
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
