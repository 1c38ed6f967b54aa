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
        // The bundled learned controllers: any change to how a network is loaded, normalises,
        // remembers or acts shows up here.
        (
            "occluded_crossing",
            "7",
            "rbf",
            "collision",
            130,
            "53ed4b7bbb90dab3",
        ),
        (
            "sensor_dropout",
            "4",
            "rbf",
            "goal",
            457,
            "1d71c36f7a317adb",
        ),
        (
            "occluded_crossing",
            "7",
            "gru",
            "goal",
            258,
            "eb3983b85f2f2253",
        ),
        ("memory_gap", "5", "expert", "goal", 236, "4dc9fef5d87c87e6"),
        ("memory_gap", "5", "gru", "goal", 236, "f0799bf941c9ec13"),
        (
            "mixed_traffic",
            "2",
            "transformer",
            "goal",
            689,
            "a8d8ef50332ef154",
        ),
        (
            "memory_gap",
            "5",
            "transformer",
            "goal",
            239,
            "df8856ab3b0f51ca",
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
