//! Golden traces: short episodes whose exact outcome and trajectory hash are pinned, so any
//! change to the dynamics, the sensors, the scenarios or the expert shows up here.
//!
//! When a change is meant to alter behaviour, re-run the commands in the table
//! (`memdrive run --scenario S --seed N --controller C --json`) and update the values, saying
//! why in the commit.

use memdrive_tests::memdrive;

#[test]
fn pinned_episodes_replay_exactly() {
    let golden = [
        (
            "lead_brake",
            "3",
            "cruise",
            "collision",
            81,
            "dac92e5728718f0c",
        ),
        (
            "occluded_crossing",
            "7",
            "expert",
            "goal",
            257,
            "1257dba58f3b1b72",
        ),
        (
            "mixed_traffic",
            "2",
            "expert",
            "goal",
            532,
            "8d88d305bb6fcfd6",
        ),
    ];
    for (scenario, seed, controller, outcome, steps, hash) in golden {
        let out = memdrive(&[
            "run",
            "--scenario",
            scenario,
            "--seed",
            seed,
            "--controller",
            controller,
            "--json",
        ]);
        let v: serde_json::Value = serde_json::from_str(out.ok()).unwrap_or_else(|e| panic!("{e}"));
        let got = (
            v["outcome"].as_str(),
            v["steps"].as_u64(),
            v["trajectory_hash"].as_str(),
        );
        assert_eq!(
            got,
            (Some(outcome), Some(steps), Some(hash)),
            "{scenario} seed {seed} {controller}"
        );
    }
}
