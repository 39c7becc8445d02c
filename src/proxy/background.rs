//! One low-priority thread for the work the proxy defers off the request path: writing the
//! originals of new compressed outputs and counting their tokens. Nothing waits on it while the
//! model answers, so it runs at a lower priority (nice 10, on Linux): on a busy machine it yields
//! to the agent, the user's builds and the proxy's own requests. Jobs run in order; when the
//! proxy is dropped, the thread finishes what is queued and ends.

use std::sync::mpsc;

type Job = Box<dyn FnOnce() + Send>;

/// The handle that queues jobs.
#[derive(Debug)]
pub struct Background {
    jobs: mpsc::Sender<Job>,
}

/// Below the agent's priority (0), well above idle (19): starved for seconds, an original would
/// not be on disk when the agent asks for it.
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
    // On Linux, nice is per thread, and `who = 0` with PRIO_PROCESS means the calling thread.
    // SAFETY: setpriority takes no pointers; a failure only leaves the priority as it was.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, NICE);
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
                // SAFETY: getpriority takes no pointers.
                let nice = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
                done.send((i, nice)).unwrap();
            });
        }
        let got: Vec<(i32, libc::c_int)> = results.iter().take(3).collect();
        assert_eq!(got.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [0, 1, 2]);
        #[cfg(target_os = "linux")]
        assert!(got.iter().all(|(_, nice)| *nice >= NICE), "{got:?}");
    }
}
