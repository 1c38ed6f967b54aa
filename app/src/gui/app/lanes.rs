//! The lanes: one world and one memory panel per controller, in a fixed grid, with each lane's
//! buttons.

use super::*;

impl MemdriveApp {
    /// The lanes in a fixed grid that fills the central panel: every lane gets an equal cell,
    /// so none is ever pushed out of the window whatever its content.
    pub(super) fn lanes_ui(&mut self, ui: &mut egui::Ui) {
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
                LaneAction::Ablation(i, ablation) => self.set_ablation(i, ablation),
                LaneAction::Forget(i) => self.forget(i),
                LaneAction::Copy(i) => self.copy_memory(i),
                LaneAction::Transplant(from, into) => self.transplant(from, into),
                LaneAction::Load(i) => {
                    let title = format!("Load weights into {}", self.lane_title(i));
                    self.open_dialog(Purpose::LoadWeights(i), title, dialogs::WEIGHTS, None);
                }
                LaneAction::Bundled(i, kind, bundled) => self.restore_bundled(i, kind, bundled),
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
        let (title, short_title) = self.lane_titles(index);
        let Some(moment) = self.lab.moment(step) else {
            return actions;
        };
        let frame = &moment.lanes[index];
        // The header has one height whatever it holds (the outcome badge is in the world view),
        // so every lane's world starts at the same height. Wide, the title and the buttons share
        // a row; narrower, the buttons get a row of their own under the title; narrower still,
        // they gather in a menu. Decided on the lane's width, not what its title leaves, so
        // every lane of a layout shows its buttons the same way.
        let width = ui.available_width();
        let learned = matches!(kind, LaneKind::Learned(_));
        let own_row = (LANE_BUTTONS_ROW_WIDTH..LANE_BUTTONS_WIDTH).contains(&width);
        let header = egui::vec2(width, LANE_HEADER_HEIGHT * if own_row { 2.0 } else { 1.0 });
        // Lanes whose memory fits this one's: the same kind of network.
        let donors: Vec<(usize, String)> = (0..self.lab.lanes().len())
            .filter(|&i| i != index && self.lab.lanes()[i].kind == kind)
            .map(|i| (i, self.lane_title(i)))
            .collect();
        // The copied memory, offered only to a controller it fits (the same kind and size).
        let copied = self.copied_memory_for(index).map(str::to_owned);
        let copied_elsewhere = copied.is_none() && self.copied_memory().is_some();
        let ablation = lane.model().and_then(|m| m.ablation()).map(|a| a.id);
        // Something to copy: a memory carried to the next step at the moment on show.
        let carries = self
            .lab
            .moments_up_to(self.view_step.unwrap_or(self.lab.step_count()), 1)
            .next()
            .and_then(|m| m.lanes.get(index)?.memory.as_ref())
            .is_some_and(|m| m.carried() > 0);
        let memory_menu = |ui: &mut egui::Ui, actions: &mut Vec<LaneAction>| {
            if ui
                .add_enabled(carries, egui::Button::new("Copy memory"))
                .on_hover_text("Keep this controller's short-term memory at the moment on show, to transplant it later (e.g. after changing the seed)")
                .on_disabled_hover_text("Nothing to copy: this controller carries no memory from one step to the next at the moment on show")
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
                    .on_hover_text(
                        "Put the copied memory into this controller at the moment on show",
                    )
                    .clicked()
            {
                actions.push(LaneAction::Transplant(None, index));
                ui.close();
            }
            if copied_elsewhere {
                ui.small("The copied memory is another kind's or size's: it does not fit here");
            } else if donors.is_empty() && copied.is_none() {
                ui.small("No other lane of this kind, and nothing copied yet");
            }
            if let LaneKind::Learned(k) = kind
                && !k.ablations().is_empty()
            {
                ui.separator();
                ui.label("Switch part of it off (the worlds restart):");
                for a in k.ablations() {
                    let mut on = ablation == Some(a.id);
                    if ui
                        .checkbox(&mut on, a.label)
                        .on_hover_text(format!(
                            "{}: {}. Compare its driving and its memory with the whole network's (on the command line: {}:{}).",
                            a.label,
                            a.summary,
                            k.id(),
                            a.id
                        ))
                        .changed()
                    {
                        actions.push(LaneAction::Ablation(index, on.then_some(a.id)));
                        ui.close();
                    }
                }
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
                .on_hover_text(
                    "Copy this controller's short-term memory, or transplant another's into it",
                );
            ui.menu_button("Weights", |ui| {
                // The lane's own kind first, then the kind it started with if it now drives
                // another: the way back from a file or a training run without restarting.
                let mut kinds = Vec::new();
                if let LaneKind::Learned(now) = kind {
                    kinds.push(now);
                }
                if let Some(&first) = ModelKind::all().get(index)
                    && !kinds.contains(&first)
                {
                    kinds.push(first);
                }
                // Every file shipped with those kinds (the 64-frame transformer too).
                for (k, bundled) in kinds
                    .iter()
                    .flat_map(|&k| k.bundled().into_iter().map(move |b| (k, b)))
                {
                    if ui
                        .button(format!("Bundled {} weights", bundled.title))
                        .on_hover_text(format!(
                            "Drive this lane with the {} weights shipped with memdrive (restarts all worlds)",
                            bundled.title
                        ))
                        .clicked()
                    {
                        actions.push(LaneAction::Bundled(index, k, bundled));
                        ui.close();
                    }
                }
                if ui
                    .button("Load weights…")
                    .on_hover_text("Replace this controller's weights with a .safetensors file (restarts all worlds)")
                    .clicked()
                {
                    actions.push(LaneAction::Load(index));
                    ui.close();
                }
                if ui
                    .button("Save weights…")
                    .on_hover_text("Save this controller's weights as a .safetensors file")
                    .clicked()
                {
                    actions.push(LaneAction::Save(index));
                    ui.close();
                }
            })
            .response
            .on_hover_text("Load this controller's weights from a file, save them, or go back to the bundled ones");
        };
        ui.allocate_ui_with_layout(header, egui::Layout::top_down(egui::Align::Min), |ui| {
            ui.set_min_size(header);
            ui.horizontal(|ui| {
                ui.set_min_height(LANE_HEADER_HEIGHT);
                // The title gives up what the buttons beside it need, however long it is
                // ("Hebbian (no-plasticity) (lane 5)"): it is cut short, never they.
                let beside = match (learned && !own_row, width >= LANE_BUTTONS_WIDTH) {
                    (false, _) => 0.0,
                    (true, true) => LANE_BUTTONS_WIDTH - LANE_TITLE_WIDTH,
                    (true, false) => 40.0,
                };
                ui.scope(|ui| {
                    let room = (width - beside).max(24.0);
                    ui.set_max_width(room);
                    // Narrow, a numbered title keeps its number ("GRU #2", not "GRU (la…"): it
                    // is what tells two lanes of one kind apart.
                    let font = egui::FontId::proportional(16.0);
                    let full = ui
                        .painter()
                        .layout_no_wrap(title.clone(), font, egui::Color32::WHITE)
                        .size()
                        .x;
                    let shown = if full > room { &short_title } else { &title };
                    let response = ui
                        .add(
                            egui::Label::new(RichText::new(shown.as_str()).strong().size(16.0))
                                .truncate(),
                        )
                        .on_hover_text(title.as_str());
                    // Screen readers (and the tests) hear the whole title.
                    response.widget_info(|| {
                        egui::WidgetInfo::labeled(egui::Role::Label, true, title.as_str())
                    });
                });
                if !learned || own_row {
                } else if width >= LANE_BUTTONS_WIDTH {
                    buttons(ui, &mut actions);
                } else {
                    ui.menu_button("…", |ui| buttons(ui, &mut actions))
                        .response
                        .on_hover_text("Forget, copy or transplant memory, load or save weights");
                }
            });
            if own_row && learned {
                ui.horizontal(|ui| {
                    ui.set_min_height(LANE_HEADER_HEIGHT);
                    buttons(ui, &mut actions);
                });
            }
        });
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
        // The probe is fitted on memory_gap: elsewhere what it reads would be a guess outside
        // what it learned from, so it is only shown on a scenario with a memory gap.
        let gap_scenario = self.lab.spec().memory_gap.is_some();
        let presence = match (lane.identified_model(), &frame.memory) {
            (Some((id, model)), Some(snapshot)) if self.settings.ghosts && gap_scenario => {
                Some(self.instruments.presence(id, model, snapshot))
            }
            _ => None,
        };
        if let Some(p) = presence {
            ui.horizontal_wrapped(|ui| {
                presence_gauge_ui(ui, p, self.instruments.presence_pending());
            });
        }
        if let Some((now, trained)) = lane.window() {
            ui.horizontal_wrapped(|ui| {
                let mut frames = now;
                // The slider and its number fit the lane, however narrow ("frames" is said
                // only where there is room for it).
                let roomy = ui.available_width() >= 220.0;
                ui.spacing_mut().slider_width = (ui.available_width()
                    - if roomy { 110.0 } else { 50.0 })
                .clamp(40.0, 120.0);
                let slider = egui::Slider::new(&mut frames, 1..=trained);
                let response = ui
                    .add(if roomy { slider.text("frames") } else { slider })
                    .on_hover_text(format!(
                        "The window: the last K frames this controller attends to (trained with {trained}). Shrink it and the worlds restart: it forgets everything older, and the memory horizon moves in."
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
            transplanted_at: &lane.transplanted_at,
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
}

/// The presence gauge of a lane: how sure its controller is, read from its memory by the
/// presence probe, that a pedestrian it saw is hidden now.
fn presence_gauge_ui(ui: &mut egui::Ui, p: Option<f64>, pending: bool) {
    let hover = "The presence probe: a logistic readout from this controller's memory to \"a pedestrian it saw is hidden now\", fitted on its own driving of memory_gap (half the episodes with nobody there). A controller without memory reads the same whether or not someone hides.";
    match p {
        Some(p) => {
            ui.label("someone hidden:").on_hover_text(hover);
            // Wraps to a line of its own in a narrow lane rather than be cut off.
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
    /// Lane `.0`'s memory with this ablation (`None`: whole).
    Ablation(usize, Option<&'static str>),
    Forget(usize),
    Copy(usize),
    /// From lane `.0` (`None`: the copied memory) into lane `.1`.
    Transplant(Option<usize>, usize),
    Load(usize),
    Save(usize),
    /// Lane `.0` on these weights shipped with this kind.
    Bundled(usize, ModelKind, memdrive_models::Bundled),
}
