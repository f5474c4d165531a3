//! Independent jobs on a few threads: each thread takes the next job as it
//! finishes one, so uneven jobs (5 activations on 2 cores, one slow seed)
//! keep every thread busy; the results come back in job order, so nothing
//! downstream depends on how many threads ran them.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `work(0..count)` on at most `threads` threads, results in index order.
pub fn map_indexed<T: Send>(
    count: usize,
    threads: usize,
    work: impl Fn(usize) -> T + Sync,
) -> Vec<T> {
    let threads = threads.clamp(1, count.max(1));
    if threads == 1 {
        return (0..count).map(work).collect();
    }
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<T>>> = Mutex::new((0..count).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= count {
                        break;
                    }
                    let result = work(index);
                    slots.lock().expect("a job panicked")[index] = Some(result);
                }
            });
        }
    });
    slots
        .into_inner()
        .expect("a job panicked")
        .into_iter()
        .map(|slot| slot.expect("every job ran"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_order_whatever_the_threads() {
        let squares = |i: usize| {
            // Uneven jobs: the early ones are the slow ones.
            std::thread::sleep(std::time::Duration::from_millis((10 - i as u64 % 10) * 2));
            i * i
        };
        let expected: Vec<usize> = (0..12).map(|i| i * i).collect();
        for threads in [1, 2, 5, 40] {
            assert_eq!(map_indexed(12, threads, squares), expected);
        }
        assert!(map_indexed(0, 4, squares).is_empty());
    }
}
