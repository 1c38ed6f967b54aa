//! Banners: errors and information over the lanes, above the timeline.

use super::*;

impl MemdriveApp {
    /// Banners, newest last, as a stack over the bottom of the lanes, just above the timeline at
    /// `bottom`: they never move the layout, and never hide the lanes' buttons.
    pub(super) fn notices_ui(&mut self, ctx: &egui::Context, bottom: f32) {
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
                // Fewer at a time in a short window, so they leave the lanes readable.
                let most = if ctx.content_rect().height() < 900.0 {
                    2
                } else {
                    MAX_BANNERS
                };
                let shown = self.notices.len().saturating_sub(most);
                if self.notices.len() > 1 {
                    ui.horizontal(|ui| {
                        if shown > 0 {
                            ui.label(
                                RichText::new(format!("{shown} older messages"))
                                    .color(Color32::WHITE)
                                    .background_color(Color32::from_black_alpha(200)),
                            );
                        }
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
                                let text = RichText::new(&notice.text).color(Color32::WHITE);
                                // A parse error's `^` points at a column: only a monospace
                                // font keeps it under the character it means.
                                let text = if points_at_a_column(&notice.text) {
                                    text.monospace()
                                } else {
                                    text
                                };
                                ui.add(egui::Label::new(text).wrap());
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
}

/// Whether `text` quotes a source line with a `^` under a column (as the TOML parser's errors
/// do: a line `  |     ^`).
fn points_at_a_column(text: &str) -> bool {
    text.lines()
        .any(|l| l.trim_start().starts_with('|') && l.contains('^'))
}

#[cfg(test)]
mod tests {
    use super::points_at_a_column;

    #[test]
    fn a_parse_error_with_a_caret_is_set_in_monospace() {
        let toml = memdrive_sim::ScenarioSpec::from_toml("name = [", "bad.toml")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(points_at_a_column(&toml), "{toml}");
        assert!(!points_at_a_column(
            "could not load weights: header too large"
        ));
    }
}
