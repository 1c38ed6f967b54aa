//! Weights in and out of the lanes: loading and saving through the dialogs, and trained models
//! put into the comparison; the training panel.

use super::*;

impl MemdriveApp {
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

    /// Drives lane `index` with weights shipped with `kind` ("Bundled … weights" in its
    /// Weights menu: its default ones, or others such as the 64-frame transformer), restarting
    /// every lane.
    pub fn restore_bundled(
        &mut self,
        index: usize,
        kind: ModelKind,
        bundled: memdrive_models::Bundled,
    ) {
        if !matches!(
            self.lab.lanes().get(index).map(|l| l.kind),
            Some(LaneKind::Learned(_))
        ) {
            return;
        }
        let driver = learned::load_named(bundled, kind, None)
            .and_then(|(file, source)| Ok(Driver::learned(file, &source)?));
        match driver {
            Ok(driver) => self.install_at(
                index,
                driver,
                format!(
                    "lane {} drives the bundled {} weights (all lanes restarted)",
                    index + 1,
                    bundled.title
                ),
            ),
            Err(e) => self.notify(format!("could not load the bundled weights: {e:#}"), true),
        }
    }

    /// Drives lane `index` with `driver`, whatever its kind (restarting every lane), and says so.
    pub(super) fn install_at(&mut self, index: usize, driver: Driver, message: String) {
        if self.lab.replace_driver_at(index, driver).is_ok() {
            self.view_step = None;
            self.notify(message, false);
        }
    }

    /// The title of lane `index`: its kind, numbered when another lane has the same kind.
    pub fn lane_title(&self, index: usize) -> String {
        self.lane_titles(index).0
    }

    /// The title of lane `index` and its short form for a narrow header, which keeps the
    /// number ("GRU (lane 2)" and "GRU #2").
    pub(super) fn lane_titles(&self, index: usize) -> (String, String) {
        let Some(lane) = self.lab.lanes().get(index) else {
            return (String::new(), String::new());
        };
        // The shipped 64-frame transformer is named as such, not as its kind.
        let kind_title = lane.shipped().map_or(lane.kind.title(), |b| b.title);
        let title = match lane.model().and_then(|m| m.ablation()) {
            Some(a) => format!("{kind_title} ({})", a.id),
            None => kind_title.to_owned(),
        };
        match self.lab.lane_number(index) {
            Some(n) => (format!("{title} (lane {n})"), format!("{title} #{n}")),
            None => (title.clone(), title),
        }
    }

    /// Puts the finished training result into lane `index`, whatever kind that lane drove.
    pub fn use_trained_in(&mut self, index: usize) {
        let Some(job) = &self.training else { return };
        let training::Status::Finished(file) = &job.status else {
            return;
        };
        let source = Path::new("<trained in the app>");
        let title = file.kind.title();
        match Driver::learned((**file).clone(), source) {
            Ok(driver) => self.install_at(
                index,
                driver,
                format!(
                    "lane {} now drives the newly trained weights (now: {title}; all lanes restarted)",
                    index + 1
                ),
            ),
            Err(e) => self.notify(format!("{e}"), true),
        }
    }

    /// Drives the lane of `kind` with `driver` (restarting every lane) and says so.
    pub(super) fn install(&mut self, kind: ModelKind, driver: Driver, message: String) {
        if self
            .lab
            .replace_driver(LaneKind::Learned(kind), driver)
            .is_ok()
        {
            self.view_step = None;
            self.notify(message, false);
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

    pub(super) fn save_trained(&mut self, path: &Path) {
        let Some(job) = &self.training else { return };
        let training::Status::Finished(file) = &job.status else {
            return;
        };
        match file.save(path) {
            Ok(()) => self.notify(format!("saved {}", path.display()), false),
            Err(e) => self.notify(format!("could not save weights: {e}"), true),
        }
    }

    pub(super) fn training_ui(&mut self, ui: &mut egui::Ui) {
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
