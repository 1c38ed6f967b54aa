//! The lanes: Forget, weights in and out, the timeline's past, branches and transplants, the
//! window slider, any kind of model in any lane.

use super::*;

#[test]
fn forget_clears_the_gru_state_and_the_transformer_window() {
    let mut harness = harness();
    click(&mut harness, "Pause");
    for _ in 0..25 {
        click(&mut harness, "Step");
    }
    let memory =
        |h: &Harness<'_, MemdriveApp>, lane: usize| h.state().lab().lanes()[lane].memory.clone();
    let hidden = |h: &Harness<'_, MemdriveApp>| {
        memory(h, 1)
            .and_then(|m| m.array("hidden").map(|a| a.data.clone()))
            .unwrap_or_else(|| panic!("a GRU snapshot"))
    };
    assert!(hidden(&harness).iter().any(|&v| v != 0.0));
    click_nth(&mut harness, "Forget", 1);
    click_nth(&mut harness, "Forget", 2);
    assert!(hidden(&harness).iter().all(|&v| v == 0.0));
    let window = memory(&harness, 2).unwrap_or_else(|| panic!("a transformer snapshot"));
    assert_eq!(window.frames_held(), Some(0));
    assert!(
        window.state().iter().all(|&v| v == 0.0),
        "the value cache is empty"
    );
    harness.get_by_label_contains("over the 0 frames in the window");
}

#[test]
fn a_corrupt_weight_file_shows_the_error_and_keeps_the_old_weights() {
    let dir = temp_dir("corrupt");
    let path = dir.join("broken.safetensors");
    std::fs::write(&path, b"\x10\x00\x00\x00\x00\x00\x00\x00{\"not\": json")
        .unwrap_or_else(|e| panic!("{e}"));
    let dialogs = Arc::new(ScriptedDialogs::new([Some(path.clone())]));
    let mut harness = harness_with(dialogs);
    harness.step();
    let before = harness.state().lab().lanes()[1].weight_file().cloned();
    click_weights(&mut harness, "Load weights…", 1);
    wait_until(&mut harness, |app| !app.notices().is_empty());
    let notice = &harness.state().notices()[0];
    assert!(notice.error);
    assert!(
        notice.text.contains("broken.safetensors"),
        "{}",
        notice.text
    );
    harness.get_by_label_contains("could not load weights");
    let after = harness.state().lab().lanes()[1].weight_file().cloned();
    assert!(matches!((&before, &after), (Some(a), Some(b)) if Arc::ptr_eq(a, b)));
    // The banner can be dismissed.
    click(&mut harness, "Dismiss");
    assert!(harness.state().notices().is_empty());
}

#[test]
fn weights_saved_through_the_dialog_load_back_identical() {
    let dir = temp_dir("save");
    let path = dir.join("gru.safetensors");
    let dialogs = Arc::new(ScriptedDialogs::new([
        Some(path.clone()),
        Some(path.clone()),
    ]));
    let mut harness = harness_with(dialogs);
    harness.step();
    click_weights(&mut harness, "Save weights…", 1);
    wait_until(&mut harness, |app| !app.notices().is_empty());
    assert!(
        !harness.state().notices()[0].error,
        "{:?}",
        harness.state().notices()
    );
    let saved = std::fs::read(&path).unwrap_or_else(|e| panic!("{e}"));
    let shipped = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../assets/weights/gru.safetensors"
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(saved, shipped);
    click(&mut harness, "Dismiss");
    click_weights(&mut harness, "Load weights…", 1);
    wait_until(&mut harness, |app| !app.notices().is_empty());
    assert!(
        !harness.state().notices()[0].error,
        "{:?}",
        harness.state().notices()
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// A lane that drives a loaded file goes back to the bundled weights from its Weights menu:
/// of the kind it drives now, or of the kind it started with; nothing to restart the app for.
#[test]
fn a_lane_goes_back_to_its_bundled_weights() {
    let shipped = |kind: &str| {
        std::fs::read(format!(
            "{}/../assets/weights/{kind}.safetensors",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap_or_else(|e| panic!("{e}"))
    };
    let transformer = std::path::PathBuf::from(format!(
        "{}/../assets/weights/transformer.safetensors",
        env!("CARGO_MANIFEST_DIR")
    ));
    let dialogs = Arc::new(ScriptedDialogs::new([Some(transformer)]));
    let mut harness = harness_with(dialogs);
    harness.step();
    let gru = memdrive_models::gru::KIND;
    let in_lane = |h: &Harness<'_, MemdriveApp>| {
        let lane = &h.state().lab().lanes()[1];
        let bytes = lane
            .weight_file()
            .map(|f| f.to_bytes().unwrap_or_else(|e| panic!("{e}")))
            .unwrap_or_default();
        (lane.kind, bytes)
    };
    // The GRU lane now drives the transformer from a file...
    click_weights(&mut harness, "Load weights…", 1);
    wait_until(&mut harness, |app| !app.notices().is_empty());
    click(&mut harness, "Dismiss");
    let (kind, _) = in_lane(&harness);
    assert_eq!(kind, LaneKind::Learned(memdrive_models::transformer::KIND));
    // ...and offers both ways back; the one to the kind it started with restores the GRU.
    click_nth(&mut harness, "Weights", 1);
    harness.get_by_label("Bundled Transformer weights");
    click(&mut harness, "Bundled GRU weights");
    wait_until(&mut harness, |app| !app.notices().is_empty());
    assert!(!harness.state().notices()[0].error);
    harness.get_by_label_contains("drives the bundled GRU weights");
    let (kind, bytes) = in_lane(&harness);
    assert_eq!(kind, LaneKind::Learned(gru));
    assert_eq!(bytes, shipped("gru"));
}

/// A transformer lane's Weights menu offers the 64-frame transformer shipped beside the
/// 16-frame one; chosen, the lane drives its file, and its window slider reaches 64 frames
/// (6.4 s) and shrinks it like any other.
#[test]
fn a_transformer_lane_drives_the_64_frame_transformer_from_its_menu() {
    let mut harness = harness();
    harness.step();
    let transformer = 2;
    click_nth(&mut harness, "Weights", transformer);
    click(&mut harness, "Bundled Transformer 64 weights");
    wait_until(&mut harness, |app| !app.notices().is_empty());
    assert!(
        !harness.state().notices()[0].error,
        "{:?}",
        harness.state().notices()
    );
    harness.get_by_label_contains("drives the bundled Transformer 64 weights");
    let lane = &harness.state().lab().lanes()[transformer];
    let shipped = std::fs::read(format!(
        "{}/../assets/weights/transformer64.safetensors",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let bytes = lane
        .weight_file()
        .map(|f| f.to_bytes().unwrap_or_else(|e| panic!("{e}")))
        .unwrap_or_default();
    assert_eq!(bytes, shipped);
    assert_eq!(lane.window(), Some((64, 64)));
    harness.get_by_label("= 6.4 s");
    harness.state_mut().set_window(transformer, 40);
    harness.step();
    assert_eq!(
        harness.state().lab().lanes()[transformer].window(),
        Some((40, 64))
    );
    harness.get_by_label("= 4.0 s");
    // Named as what it is, not only as its kind.
    harness.get_by_label("Transformer 64");
}

/// A 64-frame transformer's memory transplanted into a 16-frame one: the message says the
/// shorter window keeps only the newest frames, and the window view marks the frames that came
/// with the memory, which this world never saw.
#[test]
fn a_transplant_into_a_shorter_window_says_what_it_keeps() {
    let mut harness = harness();
    harness.step();
    let transformer = memdrive_models::transformer::KIND;
    let [default, long] = transformer.bundled()[..] else {
        panic!("two shipped transformers");
    };
    harness.state_mut().restore_bundled(1, transformer, default);
    harness.state_mut().restore_bundled(2, transformer, long);
    click(&mut harness, "Pause");
    for _ in 0..70 {
        harness.state_mut().step_once();
    }
    harness.state_mut().transplant(Some(2), 1);
    harness.step();
    harness.get_by_label_contains("keeps the newest 16 of the 64 frames");
    harness.get_by_label_contains("came with the transplanted memory");
}

#[test]
fn dragging_the_timeline_back_shows_an_earlier_steps_memory() {
    let mut harness = harness();
    click(&mut harness, "Pause");
    for _ in 0..30 {
        click(&mut harness, "Step");
    }
    let now = harness.state().lab().step_count();
    harness
        .get_by_role_and_label(egui::accesskit::Role::Slider, "Timeline")
        .set_value_accesskit(12.0);
    harness.step();
    harness.step();
    assert_eq!(harness.state().view_step(), Some(12));
    let lab = harness.state().lab();
    let past = lab
        .moment(12)
        .unwrap_or_else(|| panic!("step 12 is recorded"));
    let kept = |m: &Option<MemorySnapshot>| match m.as_ref().and_then(|m| m.array("update_gate")) {
        Some(gate) => gate.data.iter().sum::<f32>() / gate.data.len() as f32,
        None => panic!("{m:?}"),
    };
    let then = kept(&past.lanes[1].memory);
    let live = kept(&lab.lanes()[1].memory);
    assert_ne!(
        format!("{then:.2}"),
        format!("{live:.2}"),
        "pick steps whose memories differ"
    );
    harness.get_by_label(&format!(
        "share kept per step (mean update gate): {then:.2} now"
    ));
    assert_eq!(
        harness.state().lab().step_count(),
        now,
        "viewing the past changes nothing"
    );
    click(&mut harness, "Live");
    assert_eq!(harness.state().view_step(), None);
}

/// Drag the timeline back and press Play: every world goes on from that moment and what had
/// followed is gone (a branch). Forget in the past branches there too; a lane's memory can be
/// copied and transplanted back through its Memory menu.
#[test]
fn play_forget_and_transplant_in_the_past_branch_from_there() {
    let mut harness = harness();
    click(&mut harness, "Pause");
    for _ in 0..40 {
        click(&mut harness, "Step");
    }
    let slider = |harness: &mut Harness<'_, MemdriveApp>, step: f64| {
        harness
            .get_by_role_and_label(egui::accesskit::Role::Slider, "Timeline")
            .set_value_accesskit(step);
        harness.step();
        harness.step();
    };
    slider(&mut harness, 25.0);
    let then = harness
        .state()
        .lab()
        .moment(25)
        .map(|m| m.lanes[1].world.clone());
    click(&mut harness, "Step");
    let lab = harness.state().lab();
    assert_eq!((harness.state().view_step(), lab.step_count()), (None, 26));
    assert_eq!(
        lab.history().back().map(|m| m.step),
        Some(26),
        "the old future is gone"
    );
    let mut expected = then.unwrap_or_else(|| panic!("step 25 recorded"));
    expected.step(
        lab.moment(25)
            .map(|m| m.lanes[1].controls)
            .unwrap_or_default(),
    );
    assert_eq!(lab.lanes()[1].world.metrics(), expected.metrics());
    // Forget on the GRU at step 10 of the past: the worlds go on from there, without its memory.
    slider(&mut harness, 10.0);
    click_nth(&mut harness, "Forget", 1);
    let lab = harness.state().lab();
    assert_eq!((harness.state().view_step(), lab.step_count()), (None, 10));
    assert_eq!(lab.lanes()[1].forgotten_at, vec![10]);
    assert!(
        harness
            .state()
            .notices()
            .iter()
            .any(|n| n.text.contains("resumed every world"))
    );
    // Copy the GRU's memory, play on, and put the copy back: the GRU drives on it again.
    for _ in 0..5 {
        click(&mut harness, "Step");
    }
    click_nth(&mut harness, "Memory", 1);
    click(&mut harness, "Copy memory");
    let copied = harness
        .state()
        .copied_memory()
        .unwrap_or_else(|| panic!("nothing copied"))
        .to_owned();
    assert!(copied.starts_with("GRU at 1.5 s of"), "{copied}");
    let hidden = |app: &MemdriveApp| {
        app.lab().lanes()[1]
            .memory
            .as_ref()
            .map(|m| m.state().to_vec())
            .unwrap_or_else(|| panic!("a GRU snapshot"))
    };
    let at_copy = hidden(harness.state());
    for _ in 0..5 {
        click(&mut harness, "Step");
    }
    assert_ne!(hidden(harness.state()), at_copy);
    click_nth(&mut harness, "Memory", 1);
    click(&mut harness, &format!("the copied memory ({copied})"));
    assert_eq!(hidden(harness.state()), at_copy);
    // The RBF keeps no memory a GRU's could replace: its menu does not offer it, and asked for
    // anyway it is refused, with a message.
    click_nth(&mut harness, "Memory", 0);
    assert!(
        harness
            .query_by_label(&format!("the copied memory ({copied})"))
            .is_none()
    );
    harness.get_by_label("The copied memory is another kind's or size's: it does not fit here");
    harness.key_press(egui::Key::Escape);
    harness.state_mut().transplant(None, 0);
    harness.step();
    assert!(
        harness
            .state()
            .notices()
            .iter()
            .any(|n| n.error && n.text.contains("could not transplant")),
        "{:?}",
        harness
            .state()
            .notices()
            .iter()
            .map(|n| &n.text)
            .collect::<Vec<_>>()
    );
}

/// A collision says what kind of failure it was on the timeline too: lead_brake seed 0, where
/// the RBF, which cannot read the braking car's speed from one frame, runs into it in view.
#[test]
fn the_timeline_says_what_each_collision_was() {
    let settings = Settings {
        scenario: memdrive::gui::settings::ScenarioChoice::Builtin("lead_brake".into()),
        seed: 0,
        ..plain_settings()
    };
    let mut harness = harness_with_settings(settings);
    harness.step();
    click(&mut harness, "Pause");
    assert!(harness.query_by_label_contains("collided at").is_none());
    let mut steps = 0;
    while harness.state().lab().lanes()[0].world.outcome().is_none() {
        assert!(steps < 400, "the RBF never finished");
        harness.state_mut().step_once();
        steps += 1;
    }
    harness.step();
    harness.get_by_label("RBF network collided at 12.9 s: car, in view");
}

/// The sequence a first-time user crashed the app with, all in one lane: weights loaded into
/// the GRU lane, then an RBF and a transformer trained in the app and put into that same lane
/// ("Use in lane…"), each driven with ghosts and instruments on; then an RBF file loaded into
/// it. The lane takes each model's kind, and nothing crashes or reports an error.
#[test]
fn three_kinds_of_model_in_one_lane_never_crash() {
    let dir = temp_dir("one-lane");
    let weights = |kind: &str| {
        let path = dir.join(format!("{kind}.safetensors"));
        std::fs::copy(
            format!(
                "{}/../assets/weights/{kind}.safetensors",
                env!("CARGO_MANIFEST_DIR")
            ),
            &path,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        path
    };
    let dialogs = Arc::new(ScriptedDialogs::new([
        Some(weights("gru")),
        Some(weights("rbf")),
    ]));
    let settings = Settings {
        ghosts: true,
        instruments_open: true,
        ..quick_training(memdrive_models::rbf::KIND)
    };
    let mut harness = build_sized(settings, dialogs, egui::vec2(2400.0, 1000.0), 1.0 / 60.0);
    harness.step();
    let lane_kind = |h: &Harness<'_, MemdriveApp>| h.state().lab().lanes()[1].kind;
    let drive = drive_with_instruments;
    click_weights(&mut harness, "Load weights…", 1);
    wait_until(&mut harness, |app| !app.notices().is_empty());
    drive(&mut harness);
    for kind in [
        memdrive_models::rbf::KIND,
        memdrive_models::transformer::KIND,
    ] {
        harness.state_mut().settings_mut().train.kind = kind;
        harness.step();
        click(&mut harness, "Start training");
        let job = training_done(&mut harness);
        assert!(matches!(
            job.status,
            memdrive::gui::training::Status::Finished(_)
        ));
        harness.state_mut().use_trained_in(1);
        harness.step();
        assert_eq!(lane_kind(&harness), LaneKind::Learned(kind));
        drive(&mut harness);
    }
    // Two lanes of one kind are told apart by number.
    harness.get_by_label("Transformer (lane 2)");
    // The banners float over the lanes: clear them, as a user would, to reach the button.
    while harness.query_all_by_label("Dismiss").next().is_some() {
        click_nth(&mut harness, "Dismiss", 0);
    }
    click_weights(&mut harness, "Load weights…", 1);
    wait_until(&mut harness, |app| !app.notices().is_empty());
    assert_eq!(
        lane_kind(&harness),
        LaneKind::Learned(memdrive_models::rbf::KIND),
        "{:?}",
        harness.state().notices()
    );
    drive(&mut harness);
    harness.get_by_label("RBF network (lane 2)");
    let _ = std::fs::remove_dir_all(dir);
}

/// A transformer lane's window slider shrinks its working memory at run time: the worlds
/// restart, the controller keeps at most that many frames, the lane is measured again by the
/// horizon panel (its curve is cached per window), and a lane of another kind has no slider.
#[test]
fn the_window_slider_shrinks_a_transformers_memory() {
    let mut harness = harness();
    harness.step();
    let transformer = 2;
    let window = |h: &Harness<'_, MemdriveApp>, i: usize| h.state().lab().lanes()[i].window();
    assert_eq!(window(&harness, transformer), Some((16, 16)));
    assert_eq!(window(&harness, 1), None, "a GRU has no window");
    // One slider, in the transformer's lane (the slider and its text are two nodes).
    assert_eq!(harness.get_all_by_label("frames").count(), 2);
    harness.get_by_label("= 1.6 s");
    for _ in 0..20 {
        harness.state_mut().step_once();
    }
    harness.state_mut().set_window(transformer, 4);
    harness.step();
    assert_eq!(window(&harness, transformer), Some((4, 16)));
    assert_eq!(harness.state().lab().step_count(), 0, "the worlds restart");
    harness.get_by_label("= 0.4 s");
    for _ in 0..20 {
        harness.state_mut().step_once();
    }
    let frames = |h: &Harness<'_, MemdriveApp>| {
        h.state().lab().lanes()[transformer]
            .memory
            .as_ref()
            .and_then(MemorySnapshot::frames_held)
            .unwrap_or_else(|| panic!("a transformer snapshot"))
    };
    assert_eq!(frames(&harness), 4);
    // Asking a GRU for a window changes nothing and says why.
    harness.state_mut().set_window(1, 4);
    harness.step();
    assert_eq!(window(&harness, 1), None);
    assert!(
        harness.state().notices()[0]
            .text
            .contains("has no window of frames"),
        "{:?}",
        harness.state().notices()
    );
    harness.state_mut().set_window(transformer, 16);
    harness.step();
    assert_eq!(window(&harness, transformer), Some((16, 16)));
    for _ in 0..20 {
        harness.state_mut().step_once();
    }
    assert_eq!(frames(&harness), 16);
}

/// The transplant a user can watch: on `memory_gap`, copy the GRU's memory at the barrier of a
/// seed where a pedestrian hid behind the van, switch to a seed where nobody is there, and put
/// the memory in at the same moment: the GRU that never saw anyone slows at the van as if it
/// had, and comes past it later than the same GRU with its own memory.
#[test]
fn a_gru_given_a_memory_brakes_for_a_pedestrian_it_never_saw() {
    use memdrive::gui::settings::ScenarioChoice;
    let mut harness = harness();
    click(&mut harness, "Pause");
    let app = harness.state_mut();
    app.select_scenario(ScenarioChoice::Builtin("memory_gap".into()));
    app.set_gap(2.0);
    let spec = app.lab().spec().clone();
    let hazard = |seed| {
        memdrive_sim::World::new(&spec, seed)
            .memory_gap_hazard()
            .unwrap_or_else(|| panic!("memory_gap has a hazard"))
    };
    let seen = (0..20)
        .find(|&s| hazard(s).1)
        .unwrap_or_else(|| panic!("a seed with one"));
    let clear = (0..20)
        .find(|&s| !hazard(s).1)
        .unwrap_or_else(|| panic!("one without"));
    let hiding_s_m = hazard(clear).0;
    const GRU: usize = 1;
    let gru_world = |app: &MemdriveApp| app.lab().lanes()[GRU].world.clone();
    let release = gru_world(app)
        .memory_gap_release_s()
        .unwrap_or_else(|| panic!("a barrier"));
    let to_release = |app: &mut MemdriveApp| {
        while gru_world(app).time_s() < release - 0.05 {
            app.step_once();
        }
    };
    // When the GRU's car comes past the van, from the barrier on (s; 20 s: never).
    let passes = |app: &mut MemdriveApp| {
        for _ in 0..200 {
            let w = gru_world(app);
            if w.ego_frenet().s_m > hiding_s_m || w.outcome().is_some() {
                break;
            }
            app.step_once();
        }
        let w = gru_world(app);
        if w.ego_frenet().s_m > hiding_s_m {
            w.time_s()
        } else {
            20.0
        }
    };
    app.set_seed(seen);
    to_release(app);
    app.copy_memory(GRU);
    assert!(app.copied_memory().is_some_and(|m| m.starts_with("GRU at")));
    app.set_seed(clear);
    to_release(app);
    let own = passes(app);
    app.reset();
    to_release(app);
    app.transplant(None, GRU);
    assert!(
        app.notices()
            .iter()
            .any(|n| !n.error && n.text.contains("now drives on the memory of GRU")),
        "{:?}",
        app.notices().iter().map(|n| &n.text).collect::<Vec<_>>()
    );
    let given = passes(app);
    assert!(
        given > own + 1.0,
        "with its own memory the GRU passed the van at {own:.1} s, with the transplanted one at {given:.1} s"
    );
}

/// The Hebbian lane's Memory menu switches its plasticity off and back on: the title says so,
/// the worlds restart, and the lane drives as `hebbian:no-plasticity` does headless.
#[test]
fn plasticity_is_switched_off_and_on_from_the_lane_menu() {
    let mut harness = harness();
    click(&mut harness, "Pause");
    for _ in 0..10 {
        click(&mut harness, "Step");
    }
    let hebbian = harness
        .state()
        .lab()
        .lanes()
        .iter()
        .position(|l| l.kind == LaneKind::Learned(memdrive_models::hebbian::KIND))
        .unwrap_or_else(|| panic!("a Hebbian lane"));
    // Every learned lane has a Memory menu, in lane order.
    click_nth(&mut harness, "Memory", hebbian);
    click(&mut harness, "Plasticity off (alpha = 0)");
    assert_eq!(harness.state().lab().step_count(), 0, "the worlds restart");
    assert_eq!(
        harness.state().lane_title(hebbian),
        "Hebbian (no-plasticity)"
    );
    harness.get_by_label("Hebbian (no-plasticity)");
    for _ in 0..30 {
        click(&mut harness, "Step");
    }
    let model = memdrive::learned::load(memdrive_models::hebbian::KIND, None)
        .and_then(|m| Ok(m.ablated("no-plasticity")?))
        .unwrap_or_else(|e| panic!("{e:#}"));
    let lab = harness.state().lab();
    let mut world = memdrive_sim::World::new(lab.spec(), lab.seed());
    let mut controller = model.controller();
    for _ in 0..30 {
        let controls = controller.act(world.observation());
        world.step(controls);
    }
    assert_eq!(
        lab.lanes()[hebbian].world.metrics(),
        world.metrics(),
        "the lane drives as the ablated model does"
    );
    click_nth(&mut harness, "Memory", hebbian);
    click(&mut harness, "Plasticity off (alpha = 0)");
    assert_eq!(harness.state().lane_title(hebbian), "Hebbian");
}
