//! The instruments: ghosts, memory curves, influence, the presence gauge.

use super::*;

#[test]
fn the_instruments_draw_ghosts_curves_and_influence() {
    let mut harness = harness_with_settings(Settings::default());
    harness.step();
    click(&mut harness, "Pause");
    // Seed 7 of occluded_crossing: step until the pedestrian is hidden behind the truck in the
    // GRU's world (around 9–10 s).
    let mut steps = 0;
    while memdrive_models::memory::nearest_hidden_pedestrian(
        &harness.state().lab().lanes()[1].world,
    )
    .is_none()
    {
        assert!(steps < 200, "the pedestrian is never hidden from the GRU");
        harness.state_mut().step_once();
        steps += 1;
    }
    wait_until(&mut harness, |app| {
        !app.instruments().beliefs_pending()
            && app
                .lab()
                .lanes()
                .iter()
                .filter_map(|l| l.model_id())
                .all(|id| app.instruments().belief(id).is_some())
    });
    let app = harness.state();
    let lane = &app.lab().lanes()[1];
    let hidden = memdrive_models::memory::nearest_hidden_pedestrian(&lane.world);
    assert!(hidden.is_some(), "the pedestrian is hidden at step {steps}");
    let (id, model) = lane
        .identified_model()
        .unwrap_or_else(|| panic!("a learned lane"));
    let snapshot = lane.memory.as_ref().unwrap_or_else(|| panic!("a snapshot"));
    let ghost = app
        .instruments()
        .ghost(id, model, snapshot, &lane.world)
        .unwrap_or_else(|| panic!("a ghost while the pedestrian is hidden"));
    assert!(ghost.error_m > 0.0 && (0.0..=1.0).contains(&ghost.confidence));
    harness.get_by_label("Influence by lag, this step");
    click(&mut harness, "Run white-noise probe");
    wait_until(&mut harness, |app| {
        app.instruments().noise().count() == learned()
    });
    // The LRU's curve predicted from its weights is drawn beside its measured one, and no
    // other kind has one.
    let predicted: Vec<(&str, usize)> = harness
        .state()
        .instruments()
        .noise_predicted()
        .map(|(n, c)| (n, c.len()))
        .collect();
    assert_eq!(predicted, [("lru", 41)]);
    harness.get_by_label_contains("predicted from its weights");
    let noise: Vec<_> = harness.state().instruments().noise().collect();
    // Under the probe the RBF recovers nothing of the past.
    assert!(
        noise[0].1.r2[1..].iter().all(|&r| r <= 0.05),
        "{:?}",
        noise[0]
    );
}

/// The app at 1600×950 with frames of 0.1 s (at 1× each frame is one control step), once the
/// live memory curve's readouts are fitted (until then the curve is hidden, with the reason),
/// restarted: on a loaded machine the fitting can outlast the episode.
fn fitted_from_the_start(settings: Settings) -> Harness<'static, MemdriveApp> {
    let scenario = settings.scenario.label();
    let mut harness = build_sized(
        settings,
        Arc::new(ScriptedDialogs::default()),
        egui::vec2(1600.0, 950.0),
        0.1,
    );
    harness.step();
    harness.get_by_label_contains(&format!("fitting readouts on other seeds of {scenario}"));
    wait_until(&mut harness, |app| {
        !matches!(
            app.instruments().live_status(app.lab()),
            LiveStatus::Fitting(_)
        )
    });
    harness.state_mut().reset();
    harness
}

/// The live memory curve of occluded_crossing after 30 s at 1×: readouts fitted on other
/// seeds of the scenario, scored on this episode. Every controller reads its present
/// (R²(0) > 0.3); within the transformer's window (k < 16) the RBF, which keeps nothing,
/// recovers less of the past than the transformer.
#[test]
fn the_live_memory_curve_means_something_after_30_s() {
    let mut harness = fitted_from_the_start(Settings {
        ghosts: false,
        ..Settings::default()
    });
    for _ in 0..300 {
        harness.step();
    }
    let app = harness.state();
    assert!(
        app.lab().step_count() >= 150,
        "{} steps",
        app.lab().step_count()
    );
    assert_eq!(app.instruments().live_status(app.lab()), LiveStatus::Ready);
    let live = app.instruments().live();
    let names: Vec<&str> = live.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, memdrive_models::ModelKind::ids());
    let r2 = |i: usize, k: usize| live[i].1[k].unwrap_or(f64::NAN);
    for (name, curve) in &live {
        let shown: Vec<String> = curve
            .iter()
            .map(|v| v.map_or("-".into(), |v| format!("{v:.2}")))
            .collect();
        eprintln!("{name}: {}", shown.join(" "));
    }
    let present = app
        .instruments()
        .present_alone()
        .unwrap_or_else(|| panic!("the present-frame baseline is drawn beside the curves"));
    eprintln!(
        "present alone: {}",
        present
            .iter()
            .map(|v| v.map_or("-".into(), |v| format!("{v:.2}")))
            .collect::<Vec<_>>()
            .join(" ")
    );
    for (i, name) in names.iter().enumerate() {
        assert!(r2(i, 0) > 0.3, "{name}: R²(0) = {}", r2(i, 0));
    }
    for k in 1..16 {
        assert!(
            r2(0, k) < r2(2, k),
            "lag {k}: RBF {} against transformer {}",
            r2(0, k),
            r2(2, k)
        );
    }
    harness.get_by_label_contains("— transformer");
    // Reset clears the curve: it is hidden again until this episode has data.
    harness.state_mut().reset();
    harness.step();
    assert!(harness.state().instruments().live().is_empty());
    harness.get_by_label_contains("scoring this episode");
    // Curves of the scenario before do not stay on screen while the readouts for another are
    // fitted: once this episode has scored, a change of scenario hides them all.
    for _ in 0..100 {
        harness.step();
    }
    assert!(!harness.state().instruments().live().is_empty());
    harness
        .state_mut()
        .select_scenario(memdrive::gui::settings::ScenarioChoice::Builtin(
            "cut_in".into(),
        ));
    for _ in 0..40 {
        harness.step();
        let app = harness.state();
        if matches!(
            app.instruments().live_status(app.lab()),
            LiveStatus::Fitting(_)
        ) {
            assert!(app.instruments().live().is_empty(), "stale curves shown");
        }
    }
}

/// A car waiting in memory_gap's queue sees the same frame for seconds, so no lag can be
/// scored yet: the panel says why instead of drawing empty axes.
#[test]
fn a_memory_curve_with_nothing_to_score_says_why() {
    let settings = Settings {
        ghosts: false,
        seed: 7,
        scenario: memdrive::gui::settings::ScenarioChoice::Builtin("memory_gap".into()),
        ..Settings::default()
    };
    let mut harness = fitted_from_the_start(settings);
    // 7.5 s of waiting behind the stopped car: 4 s before scoring starts, then 3.5 s scored.
    for _ in 0..75 {
        harness.step();
    }
    let app = harness.state();
    assert_eq!(app.instruments().live_status(app.lab()), LiveStatus::Ready);
    let live = app.instruments().live();
    let unscored: Vec<&str> = live
        .iter()
        .filter(|(_, r2)| r2.iter().all(Option::is_none))
        .map(|(name, _)| name.as_str())
        .collect();
    assert!(!unscored.is_empty(), "{live:?}");
    if unscored.len() == live.len() {
        harness.get_by_label_contains("nothing the controllers observe has changed enough");
    } else {
        harness.get_by_label_contains(&format!(
            "nothing they observe has changed enough in this episode: {}",
            unscored.join(", ")
        ));
    }
}

/// The presence gauge reads, from each learned lane's memory, how sure it is that somebody it
/// saw is hidden: on memory_gap, while the pedestrian waits behind the van, every learned lane
/// shows one, and the GRU's is high where the memoryless RBF's is not.
#[test]
fn the_presence_gauge_reads_each_lanes_memory() {
    use memdrive::gui::settings::ScenarioChoice;
    // Seed 3: the pedestrian is there and hides behind the second van while the car waits.
    let mut harness = harness_with_settings(Settings {
        instruments_open: false,
        seed: 3,
        ..Settings::default()
    });
    harness.step();
    harness
        .state_mut()
        .select_scenario(ScenarioChoice::Builtin("memory_gap".into()));
    harness.state_mut().set_gap(4.0);
    click(&mut harness, "Pause");
    wait_until(&mut harness, |app| {
        !app.instruments().presence_pending()
            && app.lab().lanes().iter().all(|l| {
                let (Some((id, model)), Some(memory)) = (l.identified_model(), &l.memory) else {
                    return true;
                };
                app.instruments().presence(id, model, memory).is_some()
            })
    });
    // Until the pedestrian has been hidden from the GRU for 2 s (the barrier is still down).
    let mut hidden_steps = 0;
    while hidden_steps < 20 {
        assert!(harness.state().lab().step_count() < 300, "nobody hid");
        harness.state_mut().step_once();
        let gru_world = &harness.state().lab().lanes()[1].world;
        if memdrive_models::memory::nearest_hidden_pedestrian(gru_world).is_some() {
            hidden_steps += 1;
        }
    }
    harness.step();
    let gauges: Vec<f64> = harness
        .state()
        .lab()
        .lanes()
        .iter()
        .filter_map(|l| {
            let (id, model) = l.identified_model()?;
            harness
                .state()
                .instruments()
                .presence(id, model, l.memory.as_ref()?)
        })
        .collect();
    assert_eq!(gauges.len(), learned(), "{gauges:?}");
    assert!(gauges.iter().all(|p| (0.0..=1.0).contains(p)), "{gauges:?}");
    // The GRU remembers that someone is there; the RBF, which keeps nothing, cannot tell.
    let (rbf, gru) = (gauges[0], gauges[1]);
    assert!(gru >= 0.9 && gru > rbf + 0.3, "rbf {rbf}, gru {gru}");
    assert_eq!(
        harness.get_all_by_label("someone hidden:").count(),
        learned()
    );
}

/// The memory-horizon panel measures every lane in the background with progress, draws one
/// curve per lane, and caches them per model: measuring again does nothing until a lane
/// changes, and then only that lane is measured.
#[test]
fn the_memory_horizon_panel_measures_and_caches_per_model() {
    use memdrive::gui::horizon_view::HorizonKey;
    let mut harness = harness_with_settings(Settings {
        ghosts: false,
        expert_lane: true,
        ..Settings::default()
    });
    harness.step();
    click(&mut harness, "Pause");
    click(&mut harness, "Measure memory horizon");
    assert!(harness.state().horizon().progress().is_some());
    wait_until(&mut harness, |app| app.horizon().progress().is_none());
    let keys: Vec<HorizonKey> = harness
        .state()
        .lab()
        .lanes()
        .iter()
        .map(HorizonKey::of)
        .collect();
    assert_eq!(keys.len(), learned() + 1);
    let gaps = harness.state().horizon().gaps().len();
    for key in &keys {
        let curve = harness
            .state()
            .horizon()
            .curve(*key)
            .unwrap_or_else(|| panic!("{key:?} measured"));
        assert_eq!(curve.accuracy.len(), gaps);
        assert_eq!(curve.accuracy_ci.len(), gaps);
    }
    // The expert remembers every pedestrian it saw: a horizon as long as the longest gap.
    let expert = harness.state().horizon().curve(HorizonKey::Expert);
    assert!(
        expert.is_some_and(|c| c.accuracy.iter().all(|&a| a >= 0.98)),
        "{expert:?}"
    );
    // Nothing new to measure.
    assert!(!harness.state_mut().measure_horizon());
    harness.get_by_label("Every lane measured");
    // A shrunk window is another controller: only that lane is measured again.
    harness.state_mut().set_window(2, 8);
    harness.step();
    harness.get_by_label("Measure 1 more");
    assert!(harness.state_mut().measure_horizon());
    harness.step();
    harness.get_by_label_contains("measuring…");
    wait_until(&mut harness, |app| app.horizon().progress().is_none());
    let shrunk = HorizonKey::of(&harness.state().lab().lanes()[2]);
    assert_ne!(shrunk, keys[2]);
    assert!(harness.state().horizon().curve(shrunk).is_some());
    // The whole window again: its curve was kept, nothing to measure.
    harness.state_mut().set_window(2, 16);
    harness.step();
    assert_eq!(HorizonKey::of(&harness.state().lab().lanes()[2]), keys[2]);
    harness.get_by_label("Every lane measured");
    assert!(!harness.state_mut().measure_horizon());
}
