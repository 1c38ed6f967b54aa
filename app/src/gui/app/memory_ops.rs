//! Moving through time and memory: resuming from the past (a branch), Forget, copying a
//! memory and transplanting one.

use super::*;

impl MemdriveApp {
    /// One control step of every lane; from the moment on show when the timeline was dragged
    /// back (a branch), else from now.
    pub fn step_once(&mut self) {
        if self.branch_here() {
            self.lab.step();
        }
    }

    /// When the timeline shows a past moment, continues every lane from it (world and memory
    /// restored, the recorded future replaced) and returns to the live view. False when that
    /// moment could not be restored (shown as an error; nothing changes).
    pub fn branch_here(&mut self) -> bool {
        let Some(step) = self.view_step else {
            return true;
        };
        match self.lab.resume_from(step) {
            Ok(()) => {
                self.view_step = None;
                self.playing_before_view = None;
                // A branch is the user's own doing: Step stays one step, even after the end.
                self.paused_at_end = false;
                self.notify(
                    format!(
                        "resumed every world from {:.1} s: what had followed is replaced",
                        f64::from(step) * memdrive_sim::world::DT_SECS
                    ),
                    false,
                );
                true
            }
            Err(e) => {
                self.notify(format!("could not resume from step {step}: {e:#}"), true);
                false
            }
        }
    }

    /// Wipes the short-term memory of lane `index`, at the moment on show (a branch from
    /// there when it is in the past).
    pub fn forget(&mut self, index: usize) {
        if self.branch_here() {
            self.lab.forget(index);
        }
    }

    /// Copies the short-term memory of lane `index` (at the moment on show) for a later
    /// transplant.
    pub fn copy_memory(&mut self, index: usize) {
        // The lane's own time: its episode may have ended before the others'.
        let step = match self.view_step {
            Some(s) => self.lab.moment(s).and_then(|m| m.lanes.get(index)),
            None => None,
        }
        .map_or_else(
            || self.lab.lanes().get(index).map_or(0, |l| l.world.steps()),
            |f| f.world.steps(),
        );
        let state = match self.view_step {
            Some(s) => self
                .lab
                .moment(s)
                .and_then(|m| match &m.lanes.get(index)?.state {
                    DriverState::Learned(state) => Some(state.clone()),
                    DriverState::Expert(_) => None,
                }),
            None => self.lab.memory_state(index),
        };
        if let Some(state) = state {
            let label = format!(
                "{} at {:.1} s of {} seed {}",
                self.lane_title(index),
                f64::from(step) * memdrive_sim::world::DT_SECS,
                self.lab.spec().name,
                self.lab.seed()
            );
            self.notify(format!("copied the memory of {label}"), false);
            self.copied_memory = Some((label, state));
        }
    }

    /// What `copy_memory` copied, described.
    pub fn copied_memory(&self) -> Option<&str> {
        self.copied_memory.as_ref().map(|(label, _)| label.as_str())
    }

    /// What `copy_memory` copied, described, when it fits lane `index`'s controller: one of the
    /// same kind and size, as the memory itself says (read from the lane's latest recorded
    /// frame, so nothing is copied to ask).
    pub fn copied_memory_for(&self, index: usize) -> Option<&str> {
        let (label, state) = self.copied_memory.as_ref()?;
        let fits = self
            .lab
            .moments_up_to(self.lab.step_count(), 1)
            .next()
            .and_then(|m| match &m.lanes.get(index)?.state {
                DriverState::Learned(own) => Some(own.owner() == state.owner()),
                DriverState::Expert(_) => None,
            })
            .unwrap_or(false);
        fits.then_some(label.as_str())
    }

    /// Puts the memory of lane `from` (`None`: the copied memory) into lane `into` at the moment
    /// on show (a branch from there when it is in the past). A memory that does not fit is
    /// refused with a message, and nothing changes.
    pub fn transplant(&mut self, from: Option<usize>, into: usize) {
        let state = match from {
            Some(i) => self.lab.memory_state(i),
            None => self.copied_memory.as_ref().map(|(_, s)| s.clone()),
        };
        let Some(state) = state else { return };
        // Taken before the branch, so a past moment gives its memory as it was then.
        let state = match (from, self.view_step) {
            (Some(i), Some(step)) => match self.lab.moment(step).and_then(|m| m.lanes.get(i)) {
                Some(LaneFrame {
                    state: DriverState::Learned(s),
                    ..
                }) => s.clone(),
                _ => state,
            },
            _ => state,
        };
        if !self.branch_here() {
            return;
        }
        let source = match from {
            Some(i) => self.lane_title(i),
            None => self.copied_memory().unwrap_or_default().to_owned(),
        };
        // Frames the donor held, to say when a shorter window keeps only the newest of them.
        let frames_held = |lab: &Lab, i: usize| {
            lab.lanes()
                .get(i)
                .and_then(|l| l.memory.as_ref())
                .and_then(memdrive_models::MemorySnapshot::frames_held)
        };
        let offered = from.and_then(|i| frames_held(&self.lab, i));
        match self.lab.implant(into, &state) {
            Ok(()) => {
                let kept = frames_held(&self.lab, into);
                let cut = match (offered, kept) {
                    (Some(n), Some(k)) if k < n => {
                        format!(" (its {k}-frame window keeps the newest {k} of the {n} frames)")
                    }
                    _ => String::new(),
                };
                self.notify(
                    format!(
                        "{} now drives on the memory of {source}{cut}",
                        self.lane_title(into)
                    ),
                    false,
                );
            }
            Err(e) => self.notify(format!("could not transplant: {e:#}"), true),
        }
    }
}
