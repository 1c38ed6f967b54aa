//! What in its input holds a learned controller where it is: a developer's tool for the
//! driving experiments (`docs/driving.md`).
//!
//! The controller drives `--scenario` with `--seed` until `--at` seconds, while the expert
//! labels every step as it does in training. From that moment the last frame is held for
//! `--hold` seconds, as it is when the car stands and nothing around it moves: once as it is,
//! then edited. The edits: each lidar beam in turn cleared (as if it hit nothing; bearings
//! 0° ahead, positive to the left), every beam that hit one kind of thing cleared, each of
//! the car's own readings set to zero, and its speed read as 1 and 3 m/s. Each edit is driven
//! from the same memory (the controller's, just before the last frame, put into a fresh one),
//! and the table gives the acceleration the controller asks for at the end of the hold: the
//! inputs whose edit turns a wait into a pull-away are what it waits for.
//!
//! ```text
//! cargo run --release -p memdrive --example stall_inputs -- \
//!     --controller transformer --scenario mixed_traffic --seed 73 --at 60
//! ```

use anyhow::{Result, bail};
use clap::Parser;
use memdrive_models::{MemoryState, Model};
use memdrive_sim::observation::{EgoField, Element, RayField};
use memdrive_sim::world::DT_SECS;
use memdrive_sim::{Controller, Controls, Expert, Observation, ObservationSpec, Privileged, World};
use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;

/// The longest hold asked for (s).
const MAX_HOLD_S: f64 = 600.0;

#[path = "support/moment.rs"]
mod moment;

/// Command-line options.
#[derive(Parser, Debug)]
struct Args {
    #[command(flatten)]
    moment: moment::MomentArgs,
    /// How long the (edited) last frame is held (s).
    #[arg(long, default_value_t = 8.0)]
    hold: f64,
}

/// The episode up to the moment looked at.
struct Moment {
    /// The last frame the controller read.
    last: Vec<f32>,
    /// How many frames in a row, the last included, were that frame.
    alike: usize,
    /// The controller's short-term memory just before it read the last frame.
    memory: MemoryState,
    /// What the controller asked for at the moment.
    asked: Controls,
    /// What the expert would have done.
    expert: Controls,
    /// The car's speed (m/s).
    speed_mps: f64,
}

fn drive_to(model: &Model, world: &mut World, at_s: f64) -> Result<Moment> {
    let mut learner = model.controller();
    learner.reset();
    let mut expert = Expert::new();
    expert.reset();
    let (mut last, mut alike, mut memory) = (Vec::new(), 0, None);
    let (mut asked, mut label) = (Controls::default(), Controls::default());
    world.run(|w| {
        if w.time_s() > at_s {
            return None;
        }
        label = expert.act_in(w);
        let frame = w.observation().values();
        alike = if frame == last.as_slice() {
            alike + 1
        } else {
            1
        };
        last = frame.to_vec();
        memory = Some(learner.memory_state());
        asked = learner.act(w.observation());
        Some(asked)
    });
    let Some(memory) = memory.filter(|_| world.time_s() > at_s) else {
        bail!(
            "the episode ended at {:.1} s ({}), before {at_s} s",
            world.time_s(),
            world.outcome().map_or("no outcome", |o| o.as_str())
        );
    };
    Ok(Moment {
        last,
        alike,
        memory,
        asked,
        expert: label,
        speed_mps: world.ego().speed_mps,
    })
}

/// The acceleration asked for after `hold` more steps of `frame`, from the memory the
/// controller had just before the moment's last frame.
fn held(
    model: &Model,
    spec: &Arc<ObservationSpec>,
    moment: &Moment,
    frame: &[f32],
    hold: usize,
) -> Result<f64> {
    let mut c = model.controller();
    c.reset();
    c.set_memory_state(&moment.memory)?;
    let mut obs = Observation::zeros(spec.clone());
    obs.copy_from(frame);
    let mut asked = Controls::default();
    for _ in 0..=hold {
        asked = c.act(&obs);
    }
    Ok(asked.accel_mps2)
}

fn main() -> ExitCode {
    moment::exit_code(run(Args::parse()))
}

fn run(args: Args) -> Result<()> {
    let (model, spec) = args.moment.load()?;
    if !(0.0..=MAX_HOLD_S).contains(&args.hold) {
        bail!("--hold must be from 0 to {MAX_HOLD_S} s");
    }
    let mut out = String::new();
    let mut world = World::new(&spec, args.moment.seed);
    let moment = drive_to(&model, &mut world, args.moment.at)?;
    let layout = world.observation().spec().clone();
    let hold = (args.hold / DT_SECS).round() as usize;
    let last = moment.last.clone();
    writeln!(
        out,
        "{} in {} seed {} at {:.1} s: {:.2} m/s, asks {:+.2} m/s² (steer {:+.3} rad); the expert {:+.2} m/s² (steer {:+.3}); the last {} frames alike",
        args.moment.controller,
        args.moment.scenario,
        args.moment.seed,
        world.time_s(),
        moment.speed_mps,
        moment.asked.accel_mps2,
        moment.asked.steer_rad,
        moment.expert.accel_mps2,
        moment.expert.steer_rad,
        moment.alike
    )?;
    let run = |frame: &[f32]| held(&model, &layout, &moment, frame, hold);
    writeln!(
        out,
        "frame held {:.1} s as it is: {:+.2} m/s²",
        args.hold,
        run(&last)?
    )?;
    let at = |e: Element| layout.index(e);
    let range = (0..layout.beams())
        .map(|b| last[at(Element::Ray(b, RayField::Distance))])
        .fold(0.0f32, f32::max);
    let clear = |frame: &mut [f32], beam: usize| {
        frame[at(Element::Ray(beam, RayField::Distance))] = range;
        for field in [RayField::Vehicle, RayField::Pedestrian, RayField::Edge] {
            frame[at(Element::Ray(beam, field))] = 0.0;
        }
    };
    let hit = |beam: usize| {
        [RayField::Vehicle, RayField::Pedestrian, RayField::Edge]
            .into_iter()
            .find(|&f| last[at(Element::Ray(beam, f))] > 0.5)
    };
    let lidar = world.lidar();
    writeln!(out, "\nbeam  bearing  hit         distance   cleared")?;
    for beam in 0..layout.beams() {
        let Some(field) = hit(beam) else { continue };
        let mut frame = last.clone();
        clear(&mut frame, beam);
        writeln!(
            out,
            "{beam:>4}  {:>+6.0}°  {:<10} {:>7.1} m   {:+.2} m/s²",
            lidar.beam_angle_rad(beam).to_degrees(),
            field.name(),
            last[at(Element::Ray(beam, RayField::Distance))],
            run(&frame)?
        )?;
    }
    writeln!(out)?;
    for field in [RayField::Vehicle, RayField::Pedestrian, RayField::Edge] {
        let mut frame = last.clone();
        let beams: Vec<usize> = (0..layout.beams())
            .filter(|&b| hit(b) == Some(field))
            .collect();
        for &b in &beams {
            clear(&mut frame, b);
        }
        writeln!(
            out,
            "every {} beam cleared ({}): {:+.2} m/s²",
            field.name(),
            beams.len(),
            run(&frame)?
        )?;
    }
    writeln!(out)?;
    for field in EgoField::ALL {
        let i = at(Element::Ego(field));
        let mut frame = last.clone();
        frame[i] = 0.0;
        writeln!(
            out,
            "{} {} -> 0: {:+.2} m/s²",
            field.name(),
            last[i],
            run(&frame)?
        )?;
    }
    // Whether standing still is itself the reason: the same frame, read at a walking pace.
    let speed = at(Element::Ego(EgoField::Speed));
    for mps in [1.0, 3.0] {
        let mut frame = last.clone();
        frame[speed] = mps;
        writeln!(out, "speed_mps -> {mps}: {:+.2} m/s²", run(&frame)?)?;
    }
    // One write, and a closed pipe (`| head`) is an error, not a panic.
    std::io::stdout().write_all(out.as_bytes())?;
    Ok(())
}
