//! One low-priority thread for the work the proxy defers off the request path: writing the
//! originals of new compressed outputs and counting their tokens. Nothing waits on it while the
//! model answers, so on Linux it runs under SCHED_IDLE: any other thread that wants a CPU (the
//! proxy's own, the upstream's, the agent's) takes it at once. Measured on a 2-core VM with
//! nice 10 instead, this work delayed the requests it came from: the agent waited 0.5 ms longer
//! for a 4.6 KB build log and the 85 KB request's p99 rose by 0.8 ms (`cargo bench --bench
//! compress`). Jobs run in order; when the proxy is dropped, the thread finishes what is queued
//! and ends.

use std::sync::mpsc;

type Job = Box<dyn FnOnce() + Send>;

/// The handle that queues jobs.
#[derive(Debug)]
pub struct Background {
    jobs: mpsc::Sender<Job>,
}

/// If SCHED_IDLE is refused: below the agent's priority (0), above the idlest (19).
#[cfg(target_os = "linux")]
const NICE: libc::c_int = 10;

impl Background {
    /// Starts the thread.
    pub fn start() -> std::io::Result<Background> {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("headroom-bg".into())
            .spawn(move || {
                lower_priority();
                for job in queue {
                    job();
                }
            })?;
        Ok(Background { jobs })
    }

    /// Queues `job`. A job that cannot be queued (the thread is gone) runs nowhere; callers keep
    /// what it would have made reachable by other means (see `Compressor::finish_all`).
    pub fn run(&self, job: impl FnOnce() + Send + 'static) {
        let _ = self.jobs.send(Box::new(job));
    }
}

#[cfg(target_os = "linux")]
fn lower_priority() {
    // Under SCHED_IDLE a thread still gets a small share of a busy CPU (a job of a millisecond
    // takes some hundreds on a machine whose cores are all building), and the model takes
    // seconds to write the answer in which it could ask for an original.
    let idle = libc::sched_param { sched_priority: 0 };
    // SAFETY: `idle` outlives the call. On Linux, pid 0 means the calling thread, and policy and
    // nice are per thread; lowering either needs no privilege, and a failure only leaves them as
    // they were.
    unsafe {
        if libc::sched_setscheduler(0, libc::SCHED_IDLE, &idle) != 0 {
            libc::setpriority(libc::PRIO_PROCESS, 0, NICE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_run_in_order_on_a_thread_of_lower_priority() {
        let background = Background::start().unwrap();
        let (done, results) = mpsc::channel();
        for i in 0..3 {
            let done = done.clone();
            background.run(move || {
                #[cfg(target_os = "linux")]
                // SAFETY: neither call takes a pointer.
                let lowered = unsafe {
                    libc::sched_getscheduler(0) == libc::SCHED_IDLE
                        || libc::getpriority(libc::PRIO_PROCESS, 0) >= NICE
                };
                #[cfg(not(target_os = "linux"))]
                let lowered = true;
                done.send((i, lowered)).unwrap();
            });
        }
        let got: Vec<(i32, bool)> = results.iter().take(3).collect();
        assert_eq!(got, [(0, true), (1, true), (2, true)]);
    }
}
