//! The instruments' background work: one queue per app, a job at a time, each job's answer (or
//! the panic that ended it) sent back as a message.

use super::{Job, Message};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, Weak};

/// Where the instruments' background work goes. Jobs run one at a time (on a small machine
/// the frame loop keeps a core to itself) and send their answer back; a job still waiting its
/// turn when its instruments are gone (the app closed, another app of the same process
/// dropped) is skipped, so one app's leftovers never hold up another's.
pub(super) struct Queue {
    tx: Sender<Message>,
    turn: Arc<Mutex<()>>,
    open: Arc<()>,
}

/// A job's handle on its queue.
pub(super) struct Ticket {
    tx: Sender<Message>,
    turn: Arc<Mutex<()>>,
    open: Weak<()>,
}

impl Queue {
    pub(super) fn new(tx: Sender<Message>) -> Self {
        Self {
            tx,
            turn: Arc::default(),
            open: Arc::default(),
        }
    }

    pub(super) fn ticket(&self) -> Ticket {
        Ticket {
            tx: self.tx.clone(),
            turn: self.turn.clone(),
            open: Arc::downgrade(&self.open),
        }
    }
}

/// Runs `work` on a new thread behind `catch_unwind`, after the queue's other work has
/// finished: its message, or a failure naming `what` if it panicked, goes back to the queue;
/// `wake` repaints either way.
pub(super) fn background(
    job: Job,
    what: &'static str,
    ticket: Ticket,
    wake: impl Fn() + Send + 'static,
    work: impl FnOnce() -> Option<Message> + Send + 'static,
) {
    std::thread::spawn(move || {
        let _turn = ticket
            .turn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if ticket.open.upgrade().is_none() {
            return;
        }
        let message = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)) {
            Ok(Some(m)) => m,
            Ok(None) => Message::Failed(job, format!("{what} had no data to work on")),
            Err(panic) => Message::Failed(job, format!("{what} failed: {}", panic_text(&panic))),
        };
        // The app may have closed meanwhile; then nobody needs the answer.
        let _ = ticket.tx.send(message);
        wake();
    });
}

/// The message of a caught panic.
pub fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "internal error".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::channel;

    /// A panic in background work comes back as a failure naming the work, for a banner; the
    /// thread's panic does not reach the app.
    #[test]
    fn a_panic_in_background_work_becomes_a_message() {
        let (tx, rx) = channel();
        let queue = Queue::new(tx);
        background(
            Job::Noise,
            "the white-noise probe",
            queue.ticket(),
            || {},
            || panic!("dimensions mismatch"),
        );
        match rx.recv_timeout(std::time::Duration::from_secs(10)) {
            Ok(Message::Failed(Job::Noise, text)) => {
                assert_eq!(text, "the white-noise probe failed: dimensions mismatch");
            }
            Ok(_) => panic!("another message"),
            Err(e) => panic!("{e}"),
        }
    }

    /// Work still waiting its turn when its queue is dropped never runs, and the work of
    /// another queue does not wait behind it.
    #[test]
    fn work_left_by_dropped_instruments_is_skipped() {
        let (tx, rx) = channel();
        let queue = Queue::new(tx);
        let turn = queue.turn.clone();
        let held = turn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = ran.clone();
        background(
            Job::Noise,
            "the white-noise probe",
            queue.ticket(),
            || {},
            move || {
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
                None
            },
        );
        // Another app's queue answers while the first is still held.
        let (other_tx, other_rx) = channel();
        let other = Queue::new(other_tx);
        background(
            Job::Noise,
            "the white-noise probe",
            other.ticket(),
            || {},
            || None,
        );
        assert!(matches!(
            other_rx.recv_timeout(std::time::Duration::from_secs(10)),
            Ok(Message::Failed(Job::Noise, _))
        ));
        drop(queue);
        drop(held);
        // The skipped job sends nothing; its sender goes with its thread.
        assert!(matches!(
            rx.recv_timeout(std::time::Duration::from_secs(10)),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected)
        ));
        assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
    }
}
