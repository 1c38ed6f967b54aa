//! The top bar: play controls, speed, scenario, seed, the gap slider, the toggles.

use super::*;

impl MemdriveApp {
    /// With a memory-gap scenario, a slider for how long the pedestrian stays hidden.
    pub(super) fn gap_ui(&mut self, ui: &mut egui::Ui) {
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
        // Narrow, so that the top bar keeps to one row at 1280 px; logarithmic, so the short
        // gaps, where the windows' cliffs are, get as much of it as the long ones.
        ui.spacing_mut().slider_width = 56.0;
        let response = ui
            .add(
                egui::Slider::new(&mut gap_s, 0.2..=10.0)
                    .logarithmic(true)
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
            // To the slider's 0.1 s step, so 5 s is stored as 5, not 5.000000000000001.
            self.set_gap((gap_s * 10.0).round() / 10.0);
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

    /// The top bar: one row at 1280 points, wrapping (never hiding) when narrower.
    pub(super) fn controls_ui(&mut self, ui: &mut egui::Ui) {
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
                    .on_hover_text("A key to the colours and shapes, in the top-right corner of each world view wide enough to spare the room (about 180 px: with many lanes side by side, use the grid layout, close a panel or widen the window)");
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
    pub(super) fn scenario_picker_ui(&mut self, ui: &mut egui::Ui) {
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
}
