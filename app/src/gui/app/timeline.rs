//! The timeline: drag back through the recorded history, and the marks of what happened.

use super::*;

impl MemdriveApp {
    /// The lanes whose episode ended in a collision: title, step, and what was hit and known.
    pub(super) fn collisions(&self) -> Vec<(String, u32, String)> {
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

    pub(super) fn timeline_ui(&mut self, ui: &mut egui::Ui) {
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
                super::super::lab::DIVERGENCE_M
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
}
