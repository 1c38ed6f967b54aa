//! The comparison as data: lanes match headless episodes, history, forgetting, branches
//! from the past and transplants.

use super::*;
use memdrive_sim::scenario::builtin;

fn lab(with_expert: bool) -> Lab {
    let spec = builtin("occluded_crossing")
        .and_then(Result::ok)
        .unwrap_or_else(|| panic!("built-in scenario"));
    Lab::new(spec, 7, with_expert, 1000).unwrap_or_else(|e| panic!("{e:#}"))
}

/// Every lane is the same episode as `memdrive run` gives for its controller: lockstep
/// stepping changes nothing in any world.
#[test]
fn lanes_match_headless_episodes() {
    let mut lab = lab(true);
    while lab.step() {}
    for lane in lab.lanes() {
        let mut pilot = match lane.kind {
            LaneKind::Learned(kind) => memdrive_sim::Pilot::Sensing(
                learned::load(kind, None)
                    .unwrap_or_else(|e| panic!("{e:#}"))
                    .controller(),
            ),
            LaneKind::Expert => memdrive_sim::Pilot::Privileged(Box::new(Expert::new())),
        };
        let headless = memdrive_sim::run_episode(lab.spec(), 7, &mut pilot);
        assert_eq!(
            format!("{:016x}", lane.world.metrics().trajectory_hash),
            headless.trajectory_hash,
            "{}",
            lane.kind.title()
        );
    }
}

/// An expert lane added mid-episode is replayed up to now: the other lanes keep their time,
/// every recorded moment gets its frame, and the expert's episode is the same as if it had
/// driven from the start.
#[test]
fn an_expert_lane_added_mid_episode_is_replayed_to_now() {
    let mut lab = lab(false);
    for _ in 0..50 {
        lab.step();
    }
    let before = lab.lanes()[1].world.metrics().trajectory_hash;
    let expert = ModelKind::all().len();
    lab.set_expert(true);
    assert_eq!(lab.step_count(), 50);
    assert_eq!(lab.lanes()[1].world.metrics().trajectory_hash, before);
    assert_eq!(lab.lanes()[expert].world.steps(), 50);
    assert!(lab.history().iter().all(|m| m.lanes.len() == expert + 1));
    let then = lab
        .moment(20)
        .unwrap_or_else(|| panic!("step 20 is recorded"));
    assert_eq!(then.lanes[expert].world.steps(), 20);
    while lab.step() {}
    let headless = memdrive_sim::run_episode(
        lab.spec(),
        7,
        &mut memdrive_sim::Pilot::Privileged(Box::new(Expert::new())),
    );
    assert_eq!(
        format!(
            "{:016x}",
            lab.lanes()[expert].world.metrics().trajectory_hash
        ),
        headless.trajectory_hash
    );
    // Removing it again leaves the others as they were.
    lab.set_expert(false);
    assert!(lab.history().iter().all(|m| m.lanes.len() == expert));
}

/// Every model gets its own identity, even one built from the same file.
#[test]
fn model_identities_are_never_reused() {
    let a = ModelId::fresh();
    let b = ModelId::fresh();
    assert_ne!(a, b);
    let lab = lab(false);
    let ids: Vec<ModelId> = lab.lanes().iter().filter_map(Lane::model_id).collect();
    assert_eq!(ids.len(), ModelKind::all().len());
    assert!(ids.iter().all(|&id| id != a && id != b));
}

/// History keeps the last N moments, and each recorded memory is the one the lane held
/// then.
#[test]
fn history_is_a_window_of_recorded_moments() {
    let spec = builtin("occluded_crossing")
        .and_then(Result::ok)
        .unwrap_or_else(|| panic!("built-in scenario"));
    let mut lab = Lab::new(spec, 7, false, 20).unwrap_or_else(|e| panic!("{e:#}"));
    for _ in 0..30 {
        lab.step();
    }
    assert_eq!(lab.history().len(), 20);
    assert_eq!(lab.history().front().map(|m| m.step), Some(11));
    assert!(lab.moment(10).is_none());
    let m = lab.moment(30).unwrap_or_else(|| panic!("now is recorded"));
    assert_eq!(m.lanes[1].memory, lab.lanes()[1].memory);
    let recent: Vec<u32> = lab.moments_up_to(25, 5).map(|m| m.step).collect();
    assert_eq!(recent, vec![21, 22, 23, 24, 25]);
}

/// Forget clears the GRU's hidden state and the transformer's window; the RBF has nothing
/// to clear and the weights stay.
#[test]
fn forget_clears_short_term_memory_only() {
    let mut lab = lab(false);
    for _ in 0..20 {
        lab.step();
    }
    for i in 0..3 {
        lab.forget(i);
    }
    let memory = |lab: &Lab, i: usize| {
        lab.lanes()[i]
            .memory
            .clone()
            .unwrap_or_else(|| panic!("lane {i} has memory"))
    };
    assert!(memory(&lab, 1).state().iter().all(|&h| h == 0.0));
    assert_eq!(memory(&lab, 2).frames_held(), Some(0));
    assert_eq!(lab.lanes()[1].forgotten_at, vec![20]);
    // Driving on works and refills the memory.
    lab.step();
    assert_eq!(memory(&lab, 2).frames_held(), Some(1));
}

/// Each lane's trajectory hash.
fn hashes(lab: &Lab) -> Vec<u64> {
    lab.lanes()
        .iter()
        .map(|l| l.world.metrics().trajectory_hash)
        .collect()
}

/// Resuming from a recorded moment and playing on gives every lane, the expert's included,
/// the very episode it had: worlds, memories and next controls come back bit for bit.
#[test]
fn resuming_from_the_past_replays_the_same_future() {
    let mut straight = lab(true);
    for _ in 0..150 {
        straight.step();
    }
    let mut branched = lab(true);
    for _ in 0..90 {
        branched.step();
    }
    branched.resume_from(40).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(branched.step_count(), 40);
    assert_eq!(branched.history().back().map(|m| m.step), Some(40));
    for _ in 0..110 {
        branched.step();
    }
    assert_eq!(hashes(&branched), hashes(&straight));
    // A moment no longer kept is an error that changes nothing.
    let mut short =
        Lab::new(straight.spec().clone(), 7, false, 10).unwrap_or_else(|e| panic!("{e:#}"));
    for _ in 0..30 {
        short.step();
    }
    let before = hashes(&short);
    assert!(short.resume_from(5).is_err());
    assert_eq!((short.step_count(), hashes(&short)), (30, before));
}

/// Rewind, forget on one lane, play on: that lane's future changes, the others' do not,
/// and the forget is marked at the step of the branch.
#[test]
fn a_branch_with_a_forget_changes_only_that_lane() {
    let mut straight = lab(false);
    for _ in 0..200 {
        straight.step();
    }
    let mut branched = lab(false);
    for _ in 0..200 {
        branched.step();
    }
    branched.forget(1);
    branched.resume_from(60).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(
        branched.lanes()[1].forgotten_at.is_empty(),
        "a later forget is undone"
    );
    branched.forget(1);
    assert_eq!(branched.lanes()[1].forgotten_at, vec![60]);
    for _ in 0..140 {
        branched.step();
    }
    let (a, b) = (hashes(&straight), hashes(&branched));
    assert_eq!((a[0], a[2]), (b[0], b[2]));
    assert_ne!(a[1], b[1], "forgetting at 6 s changed nothing the GRU did");
}

/// A transplant copies one lane's memory into another of the same kind; one that does not
/// fit is refused and leaves the memory as it was.
#[test]
fn transplants_copy_memory_between_lanes_of_a_kind() {
    let mut lab = lab(false);
    let (file, source) =
        learned::load_file(memdrive_models::gru::KIND, None).unwrap_or_else(|e| panic!("{e:#}"));
    let second = Driver::learned(file, &source).unwrap_or_else(|e| panic!("{e}"));
    assert!(lab.replace_driver_at(0, second).is_ok());
    for _ in 0..30 {
        lab.step();
    }
    lab.forget(0);
    let gru = lab.memory_state(1).map(|s| s.owner().to_owned());
    assert_eq!(gru.as_deref(), Some("a GRU of 64 units"));
    lab.transplant(1, 0).unwrap_or_else(|e| panic!("{e:#}"));
    let hidden = |lab: &Lab, i| {
        lab.memory_state(i)
            .and_then(|s| s.get::<memdrive_models::gru::HiddenState>().cloned())
    };
    assert!(hidden(&lab, 0).is_some_and(|h| h.0.iter().any(|&v| v != 0.0)));
    assert_eq!(hidden(&lab, 0), hidden(&lab, 1));
    let before = lab.lanes()[0].memory.clone();
    let err = lab.transplant(2, 0).err().map(|e| format!("{e:#}"));
    assert!(
        err.as_deref()
            .is_some_and(|e| e.contains("transformer") && e.contains("GRU")),
        "{err:?}"
    );
    assert_eq!(lab.lanes()[0].memory, before);
}

/// Switching the plasticity of the Hebbian lane off gives the same episode as
/// `hebbian:no-plasticity` headless, with a new model identity and a restart; switching it back
/// gives the whole network's episode again; an ablation its kind does not offer changes
/// nothing.
#[test]
fn an_ablated_lane_drives_as_the_ablated_model_does_headless() {
    let mut lab = lab(false);
    let index = lab
        .lanes()
        .iter()
        .position(|l| l.kind == LaneKind::Learned(memdrive_models::hebbian::KIND))
        .unwrap_or_else(|| panic!("a Hebbian lane"));
    let headless = |ablation: Option<&str>| {
        let model =
            learned::load(memdrive_models::hebbian::KIND, None).unwrap_or_else(|e| panic!("{e:#}"));
        let model = match ablation {
            Some(a) => model.ablated(a).unwrap_or_else(|e| panic!("{e:#}")),
            None => model,
        };
        let mut pilot = memdrive_sim::Pilot::Sensing(model.controller());
        memdrive_sim::run_episode(lab_spec(), 7, &mut pilot).trajectory_hash
    };
    let hash = |lab: &Lab| {
        format!(
            "{:016x}",
            lab.lanes()[index].world.metrics().trajectory_hash
        )
    };
    assert_ne!(
        headless(Some("no-plasticity")),
        headless(None),
        "the plasticity changes how it drives"
    );
    let before = lab.lanes()[index].model_id();
    for _ in 0..30 {
        lab.step();
    }
    lab.set_ablation(index, Some("no-plasticity"))
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(lab.step_count(), 0, "the worlds restart");
    assert_ne!(lab.lanes()[index].model_id(), before);
    assert_eq!(lab.lanes()[index].variant(), ":no-plasticity");
    while lab.step() {}
    assert_eq!(hash(&lab), headless(Some("no-plasticity")));
    let gru = lab
        .lanes()
        .iter()
        .position(|l| l.kind == LaneKind::Learned(memdrive_models::gru::KIND))
        .unwrap_or_else(|| panic!("a GRU lane"));
    let err = lab
        .set_ablation(gru, Some("no-plasticity"))
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
    assert!(err.contains("no ablation `no-plasticity`"), "{err}");
    assert_eq!(lab.lanes()[gru].variant(), "");
    lab.set_ablation(index, None)
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(
        lab.lanes()[index].model_id(),
        before,
        "the whole model's identity comes back, and with it what was computed from it"
    );
    while lab.step() {}
    assert_eq!(hash(&lab), headless(None));
}

fn lab_spec() -> &'static ScenarioSpec {
    static SPEC: std::sync::LazyLock<ScenarioSpec> = std::sync::LazyLock::new(|| {
        builtin("occluded_crossing")
            .and_then(Result::ok)
            .unwrap_or_else(|| panic!("built-in scenario"))
    });
    &SPEC
}
