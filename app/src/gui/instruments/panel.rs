//! The instruments panel: memory curves, the belief probe, influence by lag, drawn from the
//! instruments' state.

use super::*;
use crate::gui::paint::still_plot;

/// The memory curve's legend, above the plot so it never covers a line: one entry per
/// controller, and one for the dashed white-noise lines when there are any.
fn legend_ui(
    ui: &mut egui::Ui,
    live: &[(String, Vec<Option<f64>>)],
    noise: &[(&str, &MemoryCurve)],
) {
    let mut names: Vec<&str> = live.iter().map(|(n, _)| n.as_str()).collect();
    for (n, _) in noise {
        if !names.contains(n) {
            names.push(n);
        }
    }
    ui.horizontal_wrapped(|ui| {
        for name in names {
            ui.label(
                egui::RichText::new(format!("— {name}"))
                    .color(controller_color(name))
                    .small(),
            );
        }
        if !live.is_empty() {
            ui.label(egui::RichText::new("solid: this episode").small());
            ui.label(
                egui::RichText::new("··· present frame alone")
                    .color(egui::Color32::GRAY)
                    .small(),
            )
            .on_hover_text("The same readouts from the observation of the moment instead of the state: what the present gives away about the past without any memory. A controller's line above it is memory.");
        }
        if !noise.is_empty() {
            ui.label(egui::RichText::new("- - dashed: noise probe").small());
        }
    });
}

/// Line colour of each controller in the instrument plots: a learned one in its kind's colour
/// ("rbf (lane 2)" and "transformer@8" too), darker with part of its memory switched off
/// ("hebbian:no-plasticity"), and, when lanes share a kind (their names then say "(lane N)"),
/// in a shade of its own for each lane number, so no two such lanes look alike; the expert
/// light grey, other baselines violet.
pub fn controller_color(name: &str) -> egui::Color32 {
    let id = name.split([' ', '@', '=', ':']).next().unwrap_or_default();
    match memdrive_models::ModelKind::bundled_named(id).map(|(kind, _)| kind) {
        Some(kind) => {
            let [r, g, b] = kind.colour();
            let mut colour = egui::Color32::from_rgb(r, g, b);
            let head = name.split('=').next().unwrap_or_default();
            if head.contains(':') {
                colour = colour.lerp_to_gamma(egui::Color32::BLACK, 0.45);
            }
            let lane = name
                .rsplit_once("(lane ")
                .and_then(|(_, n)| n.trim_end_matches(')').parse::<usize>().ok());
            // Lane 1 keeps the kind's colour; the others alternate lighter and darker, further
            // each time (up to the most lanes the app has: every kind and the expert).
            if let Some(n) = lane.filter(|&n| n > 1) {
                let amount = 0.4 + 0.25 * ((n / 2) as f32 - 1.0);
                colour = if n % 2 == 0 {
                    colour.lerp_to_gamma(egui::Color32::WHITE, amount)
                } else {
                    colour.lerp_to_gamma(egui::Color32::BLACK, amount)
                };
            }
            colour
        }
        None if id == "expert" => egui::Color32::from_rgb(220, 220, 220),
        None => egui::Color32::from_rgb(190, 150, 230),
    }
}

/// Height of the memory-curve plot (px).
const MEMORY_PLOT_HEIGHT: f32 = 170.0;

/// Lowest R² drawn: a readout that generalises worse than the mean scores below 0 without
/// bound; the plot clips there so the interesting range stays visible.
const R2_FLOOR: f64 = -0.5;

/// The instruments panel: memory curves, the white-noise probe button, belief probe errors and
/// influence by lag at the step on screen. Returns true when the probe was asked for.
pub fn panel_ui(ui: &mut egui::Ui, instruments: &Instruments, lab: &Lab, step: u32) -> bool {
    let mut run_noise = false;
    ui.heading("Memory instruments");
    ui.label(egui::RichText::new("Memory curve").strong()).on_hover_text(format!(
        "R² of a linear readout from the controller's state now to what it observed k steps ago \
         (lidar distances and ego state). Solid: this episode so far — readouts fitted on the \
         controller's own driving of other seeds of this scenario, scored here step by step. \
         Each element's R² counts at least 0 (read no better than its mean: not known). Grey \
         dots: the same readouts from the present frame alone, what the world's predictability \
         gives away without memory. Dashed: the white-noise probe, where frames are drawn \
         independently so only memory can explain the past. Values below {R2_FLOOR} are drawn \
         at {R2_FLOOR}."
    ));
    let live = instruments.live();
    let noise: Vec<(&str, &MemoryCurve)> = instruments.noise().collect();
    let status = instruments.live_status(lab);
    let reason = match &status {
        LiveStatus::Ready => None,
        LiveStatus::Fitting(scenario) => Some(format!(
            "fitting readouts on other seeds of {scenario}… (still: {}; a wide state such as \
             the 64-frame transformer's takes a minute or more)",
            instruments.live_pending(lab).join(", ")
        )),
        LiveStatus::Waiting(steps) => Some(format!(
            "scoring this episode from {:.0} s on: {steps} of {MIN_LIVE_STEPS} steps",
            DEFAULT_LAGS as f64 * 0.1
        )),
        LiveStatus::Unavailable(why) => Some(why.clone()),
    };
    // Scored, but nothing a lane's readouts use has varied enough yet to score a lag (a car
    // waiting in a queue sees the same frame for seconds): say so rather than draw empty axes,
    // or leave a lane out of the plot without a word.
    let unscored: Vec<&str> = live
        .iter()
        .filter(|(_, r2)| r2.iter().all(Option::is_none))
        .map(|(name, _)| name.as_str())
        .collect();
    let reason = reason.or_else(|| {
        if unscored.is_empty() {
            None
        } else if unscored.len() == live.len() {
            Some(
                "nothing the controllers observe has changed enough yet in this episode to \
                 score a lag; the curve appears once it does"
                    .to_owned(),
            )
        } else {
            Some(format!(
                "not drawn yet, nothing they observe has changed enough in this episode: {}",
                unscored.join(", ")
            ))
        }
    });
    let live = if unscored.len() == live.len() {
        Vec::new()
    } else {
        live
    };
    let present = instruments.present_alone().filter(|_| !live.is_empty());
    if live.is_empty() && noise.is_empty() {
        // The plot's room is kept while it waits, so nothing below jumps when it appears.
        let (rect, _) = ui.allocate_exact_size(
            egui::vec2(ui.available_width(), MEMORY_PLOT_HEIGHT + 18.0),
            egui::Sense::hover(),
        );
        ui.put(
            rect,
            egui::Label::new(egui::RichText::new(reason.unwrap_or_default()).small()).wrap(),
        );
    } else {
        legend_ui(ui, &live, &noise);
        egui_plot::Plot::new("memory curves")
            .height(MEMORY_PLOT_HEIGHT)
            .include_y(0.0)
            .include_y(1.0)
            .include_x(0.0)
            .include_x(DEFAULT_LAGS as f64 * 0.1)
            .x_axis_label("lag (s)")
            .y_axis_label("R²")
            .allow_scroll(false)
            .show(ui, |plot| {
                // R² by lag as plot points (lags without a value are left out).
                let points = |r2: &[Option<f64>]| -> Vec<[f64; 2]> {
                    r2.iter()
                        .enumerate()
                        .filter_map(|(k, r)| r.map(|r| [k as f64 * 0.1, r.max(R2_FLOOR)]))
                        .collect()
                };
                if let Some(present) = &present {
                    plot.line(
                        egui_plot::Line::new("the present frame alone", points(present))
                            .color(egui::Color32::GRAY)
                            .style(egui_plot::LineStyle::dotted_dense()),
                    );
                }
                for (name, r2) in &live {
                    plot.line(
                        egui_plot::Line::new(name.clone(), points(r2))
                            .color(controller_color(name))
                            .width(2.0),
                    );
                }
                for (name, curve) in &noise {
                    let points: Vec<[f64; 2]> = curve
                        .lags
                        .iter()
                        .zip(&curve.r2)
                        .map(|(&k, &r)| [k as f64 * 0.1, r.max(R2_FLOOR)])
                        .collect();
                    plot.line(
                        egui_plot::Line::new(format!("{name} (noise probe)"), points)
                            .color(controller_color(name))
                            .style(egui_plot::LineStyle::dashed_loose()),
                    );
                }
                for (name, r2) in instruments.noise_predicted() {
                    let points: Vec<[f64; 2]> = r2
                        .iter()
                        .enumerate()
                        .map(|(k, &r)| [k as f64 * 0.1, r.max(R2_FLOOR)])
                        .collect();
                    plot.line(
                        egui_plot::Line::new(
                            format!("{name} (predicted from its weights)"),
                            points,
                        )
                        .color(controller_color(name))
                        .style(egui_plot::LineStyle::dotted_loose()),
                    );
                }
            });
        if let Some(reason) = reason {
            ui.small(reason);
        }
    }
    ui.horizontal(|ui| {
        let label = if instruments.noise_running() {
            "White-noise probe running…"
        } else {
            "Run white-noise probe"
        };
        if ui
            .add_enabled(!instruments.noise_running(), egui::Button::new(label))
            .on_hover_text("Feed each controller 10,000 frames drawn independently from real driving and fit its memory curve (a few seconds, in the background). It measures each network as trained: a transformer with its full window, whatever its lane's window slider says")
            .clicked()
        {
            run_noise = true;
        }
    });
    for (name, curve) in &noise {
        ui.small(format!(
            "{name}: capacity {:.2} (noise probe)",
            curve.capacity
        ));
    }
    for (name, r2) in instruments.noise_predicted() {
        ui.small(format!(
            "{name}: capacity {:.2} predicted from its weights (dotted)",
            r2.iter().map(|v| v.max(0.0)).sum::<f64>()
        ));
    }
    ui.separator();
    ui.label(egui::RichText::new("Belief probe: hidden pedestrian").strong())
        .on_hover_text("A linear readout from the state to where the nearest hidden pedestrian really is, fitted on 30 episodes of occluded_crossing and scored on held-out ones. Its guesses are drawn as ghosts in the world views.");
    // The probes are fitted on one scenario whatever is on show: say which.
    ui.small("fitted on occluded_crossing; error by time since last seen, on held-out episodes");
    if instruments.beliefs_pending() {
        ui.small("fitting belief probes…");
    }
    for (index, lane) in lab.lanes().iter().enumerate() {
        let (LaneKind::Learned(_), Some(id)) = (lane.kind, lane.model_id()) else {
            continue;
        };
        let name = lane_name(lab, index);
        if let Some(belief) = instruments.belief(id) {
            let errors: Vec<String> = belief
                .time_since_seen_s
                .iter()
                .zip(&belief.error_m)
                .map(|(t, e)| format!("{t:.2} s: {e:.1} m"))
                .collect();
            ui.small(format!(
                "{name}: error by time since seen: {}",
                errors.join(", ")
            ));
        }
    }
    ui.separator();
    ui.label(egui::RichText::new("Influence by lag, this step").strong())
        .on_hover_text("‖∂action/∂observation k steps ago‖ through the network's own backward pass: how much what it saw k steps ago still moves what it does now.");
    // Far enough back for the longest window on show (the 64-frame transformer's 6.3 s), and
    // the same axis for every lane.
    let lags = lab
        .lanes()
        .iter()
        .filter_map(|l| l.model()?.window())
        .map(|k| k.saturating_sub(1))
        .fold(DEFAULT_LAGS, usize::max);
    for (index, lane) in lab.lanes().iter().enumerate() {
        let (LaneKind::Learned(_), Some(model)) = (lane.kind, lane.model()) else {
            continue;
        };
        let name = lane_name(lab, index);
        let recent: Vec<&LaneFrame> = lab
            .moments_up_to(step, lags + 2)
            .map(|m| &m.lanes[index])
            .collect();
        let influence = influence_now(model, &recent, lane.window_limit(), lags);
        let bars: Vec<egui_plot::Bar> = influence
            .iter()
            .enumerate()
            .map(|(k, &v)| egui_plot::Bar::new(k as f64 * 0.1, v).width(0.08))
            .collect();
        ui.small(name.as_str());
        still_plot(("influence", index), 70.0)
            .include_y(0.0)
            .include_x(0.0)
            .include_x(lags as f64 * 0.1)
            // Labels every 2 s and lines every second, however far back the axis goes (the
            // default spacer labels only 0 once it passes about 5 s).
            .x_grid_spacer(egui_plot::uniform_grid_spacer(|_| [1.0, 2.0, 4.0]))
            .show(ui, |plot| {
                plot.bar_chart(
                    egui_plot::BarChart::new(format!("{name} influence"), bars)
                        .color(controller_color(&name)),
                );
            });
    }
    run_noise
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lanes that share a kind are told apart by their shade, whichever lane numbers they have
    /// (lanes 1 and 3 too, which once shared one); a lane of its own kind keeps the kind's
    /// colour.
    #[test]
    fn lanes_of_one_kind_never_share_a_colour() {
        for kind in ["rbf", "gru", "transformer", "lru", "hebbian"] {
            let colours: Vec<egui::Color32> = (1..=6)
                .map(|n| controller_color(&format!("{kind} (lane {n})")))
                .collect();
            for (i, a) in colours.iter().enumerate() {
                for (j, b) in colours.iter().enumerate().skip(i + 1) {
                    // Far enough apart to tell at a glance, not merely unequal.
                    let apart: i32 = (0..3)
                        .map(|c| (i32::from(a[c]) - i32::from(b[c])).abs())
                        .sum();
                    assert!(
                        apart >= 45,
                        "{kind}: lanes {} and {}: {apart}",
                        i + 1,
                        j + 1
                    );
                }
            }
            assert_eq!(colours[0], controller_color(kind));
        }
    }
}
