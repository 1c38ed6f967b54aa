//! Prints a step-by-step trace of one expert episode (ego and every actor), for debugging
//! scenarios: `cargo run --release -p memdrive-sim --example trace -- occluded_crossing 8`.

use memdrive_sim::{Controller, Expert, Privileged, ScenarioSpec, World};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let name = args.get(1).map_or("occluded_crossing", String::as_str);
    let seed = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(0);
    let spec = match ScenarioSpec::load(name) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let mut world = World::new(&spec, seed);
    let mut expert = if args.get(3).is_some_and(|a| a == "reactive") {
        Expert::reactive()
    } else {
        Expert::new()
    };
    expert.reset();
    while world.outcome().is_none() {
        let c = expert.act_in(&world);
        let f = world.ego_frenet();
        let mut line = format!(
            "t {:5.1}{} ego s {:6.1} d {:5.2} v {:5.2} a {:5.2} |",
            world.time_s(),
            if world.sensor_dropout() { "X" } else { " " },
            f.s_m,
            f.d_m,
            world.ego().speed_mps,
            c.accel_mps2
        );
        for (a, v) in world.actors().iter().zip(world.visibility()) {
            if (a.s_m - f.s_m).abs() < 70.0 {
                line += &format!(
                    " {}{:?} s{:.1} d{:.2} v{:.1} w{:.1}{}",
                    a.id,
                    a.kind,
                    a.s_m,
                    a.d_m,
                    a.speed_mps,
                    a.lateral_mps,
                    if v.visible_now {
                        " SEEN"
                    } else if v.last_seen_step.is_some() {
                        " mem"
                    } else {
                        ""
                    }
                );
            }
        }
        println!("{line}");
        world.step(c);
    }
    println!("{:?}", world.outcome());
}
