//! Deterministic parallel map: jobs run on worker threads in any order, results come back in
//! job order, so anything computed from them is identical whatever the thread count.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Most worker threads any command starts.
pub const MAX_THREADS: usize = 256;

/// Worker count for a request: `None` means every core; never more than there are jobs, nor
/// more than `MAX_THREADS`.
pub fn worker_count(requested: Option<usize>, jobs: usize) -> usize {
    requested
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
        .clamp(1, jobs.clamp(1, MAX_THREADS))
}

/// Runs `work` on every job on `threads` workers (see `worker_count`). Each worker first makes
/// its own state with `init` (e.g. a controller), reused across the jobs it takes.
pub fn map_ordered<J, S, R, I, W>(jobs: &[J], threads: Option<usize>, init: I, work: W) -> Vec<R>
where
    J: Sync,
    R: Send,
    I: Fn() -> S + Sync,
    W: Fn(&mut S, &J) -> R + Sync,
{
    let slots: Vec<Mutex<Option<R>>> = jobs.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..worker_count(threads, jobs.len()) {
            scope.spawn(|| {
                let mut state = init();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    let result = work(&mut state, job);
                    *slots[i]
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(result);
                }
            });
        }
    });
    slots
        .into_iter()
        .filter_map(|m| {
            m.into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_job_order_for_any_thread_count() {
        let jobs: Vec<u64> = (0..100).collect();
        for threads in [1, 2, 7] {
            let out = map_ordered(
                &jobs,
                Some(threads),
                || 0u64,
                |calls, j| {
                    *calls += 1;
                    j * j
                },
            );
            assert_eq!(out, jobs.iter().map(|j| j * j).collect::<Vec<_>>());
        }
    }
}
