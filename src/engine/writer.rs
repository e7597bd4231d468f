//! The one owner of every store mutation: a thread that applies jobs in the
//! order they arrive, the CSM's edits before background work.
//!
//! The event loop never waits on it: it sends an edit and shows the change
//! at once; the edit's acknowledgement runs once the write is flushed, which
//! is when the cockpit says "saved". Long work (a health pass, a rescore, a
//! rebuild) runs as steps, so an edit made meanwhile waits at most one step
//! and lands between two of them, never under one: each step reads what it
//! changes afresh.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};

use crate::store::{Result, Store, StoreError};

/// What runs after an edit is durable (a toast, a message to the UI).
pub type Ack = Box<dyn FnOnce() + Send>;

/// An edit: the mutation, returning what to do once it is on disk.
type EditJob = Box<dyn FnOnce(&Store) -> Ack + Send>;

/// Background work: one call, or one step of a long job.
enum Work {
    /// Runs once.
    Once(Box<dyn FnOnce(&Store) + Send>),
    /// Runs step after step, behind whatever arrived meanwhile.
    Steps(Box<dyn Steps>),
}

/// A long job cut into steps short enough that an edit never waits long.
pub trait Steps: Send {
    /// Does the next step; `Ok(true)` when there is more to do.
    fn step(&mut self, store: &Store) -> Result<bool>;
    /// The job ended, with the error that stopped it if one did.
    fn finish(self: Box<Self>, store: &Store, outcome: Result<()>);
}

#[derive(Default)]
struct Queue {
    edits: VecDeque<EditJob>,
    work: VecDeque<Work>,
    /// Set when the last handle is gone: the thread drains and ends.
    closed: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    wake: Condvar,
}

/// A handle to the writer thread; clones share it. Once every handle is
/// dropped, the thread applies the edits still waiting and ends; background
/// work still waiting is dropped (every long job resumes at the next start).
#[derive(Clone)]
pub struct Writer {
    shared: Arc<Shared>,
    _owner: Arc<Owner>,
    store: Store,
}

/// Closes the queue when the last handle goes, and waits for the thread so
/// every edit sent is on disk before the process goes on.
struct Owner {
    shared: Arc<Shared>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.shared.queue.lock().unwrap_or_else(|p| p.into_inner()).closed = true;
        self.shared.wake.notify_all();
        if let Some(t) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = t.join();
        }
    }
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").field("store", &self.store).finish()
    }
}

thread_local! {
    /// Set on the writer thread.
    static ON_WRITER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A panic inside a job, as the error its caller sees.
fn stopped() -> StoreError {
    StoreError::Decode { what: "change".into(), detail: "an internal error stopped it; see the log file".into() }
}

impl Writer {
    /// Starts the writer thread over `store`.
    pub fn spawn(store: Store) -> Writer {
        let shared = Arc::new(Shared { queue: Mutex::new(Queue::default()), wake: Condvar::new() });
        let thread = {
            let (shared, store) = (shared.clone(), store.clone());
            std::thread::Builder::new()
                .name("cockpit-writer".into())
                .spawn(move || run(&shared, &store))
                .expect("the writer thread starts")
        };
        let owner = Arc::new(Owner { shared: shared.clone(), thread: Mutex::new(Some(thread)) });
        Writer { shared, _owner: owner, store }
    }

    /// The store the writer owns, for reads.
    pub fn store(&self) -> &Store {
        &self.store
    }

    fn push(&self, f: impl FnOnce(&mut Queue)) {
        f(&mut self.shared.queue.lock().unwrap_or_else(|p| p.into_inner()));
        self.shared.wake.notify_one();
    }

    /// Sends a CSM edit; it runs before any background work still waiting,
    /// and what it returns runs once the edit is flushed to disk.
    pub fn edit(&self, f: impl FnOnce(&Store) -> Ack + Send + 'static) {
        self.push(|q| q.edits.push_back(Box::new(f)));
    }

    /// Sends an edit and blocks until it is on disk, with its result: for
    /// the way out of a session, never for a keystroke.
    pub fn edit_wait<T: Send + 'static>(&self, f: impl FnOnce(&Store) -> Result<T> + Send + 'static) -> Result<T> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.edit(move |s| {
            let r = f(s);
            Box::new(move || {
                let _ = tx.send(r);
            })
        });
        rx.recv().unwrap_or_else(|_| Err(stopped()))
    }

    /// Runs `f` on the writer as background work, blocking this thread until
    /// it is done: how sync and push tasks write (they wrote in place
    /// before; the wait is the same, now in order with everything else).
    /// `f` may borrow from the caller, who waits until it has run.
    #[allow(unsafe_code)] // the one lifetime erasure, argued where it is made
    pub fn run<'a, T: Send + 'a>(&self, f: impl FnOnce(&Store) -> Result<T> + Send + 'a) -> Result<T> {
        if ON_WRITER.with(|w| w.get()) {
            // Already on the writer (a job that writes more): no queue.
            return f(&self.store);
        }
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let job: Box<dyn FnOnce(&Store) + Send + 'a> = Box::new(move |s| {
            // `f` (and all it borrows) is consumed before the answer goes.
            let r = f(s);
            let _ = tx.send(r);
        });
        // SAFETY: the job borrows for 'a, and this call does not return
        // before the job is gone: `recv` answers once the job sent its
        // result (after `f` was consumed), or once the job was dropped
        // without running (its sender with it). Either way nothing the job
        // borrows is touched after `recv` returns. The queue holds the job
        // until then: it is only cleared when the last handle goes, and
        // `self` is one.
        let job: Box<dyn FnOnce(&Store) + Send + 'static> = unsafe { std::mem::transmute(job) };
        self.push(|q| q.work.push_back(Work::Once(job)));
        rx.recv().unwrap_or_else(|_| Err(stopped()))
    }

    /// Starts a long job; it runs step by step among the other work.
    pub fn steps(&self, job: impl Steps + 'static) {
        self.push(|q| q.work.push_back(Work::Steps(Box::new(job))));
    }

    /// Waits until every edit sent before this call is on disk.
    pub fn settle_edits(&self) -> Result<()> {
        self.edit_wait(|_| Ok(()))
    }
}

/// The writer thread: edits first (flushed together, then acknowledged),
/// then one piece of background work, until closed and drained.
fn run(shared: &Shared, store: &Store) {
    ON_WRITER.with(|w| w.set(true));
    loop {
        let (edits, work) = {
            let mut q = shared.queue.lock().unwrap_or_else(|p| p.into_inner());
            while q.edits.is_empty() && q.work.is_empty() && !q.closed {
                q = shared.wake.wait(q).unwrap_or_else(|p| p.into_inner());
            }
            let edits: Vec<EditJob> = q.edits.drain(..).collect();
            if q.closed {
                if edits.is_empty() {
                    return;
                }
                (edits, None)
            } else {
                let work = if edits.is_empty() { q.work.pop_front() } else { None };
                (edits, work)
            }
        };
        if !edits.is_empty() {
            let acks: Vec<Ack> = edits.into_iter().filter_map(|e| guarded(|| e(store))).collect();
            // One flush makes every edit of the round durable before any
            // is acknowledged.
            if let Err(e) = store.flush() {
                tracing::error!("the store could not be flushed after an edit: {e}");
            }
            for ack in acks {
                guarded(ack);
            }
            continue;
        }
        match work {
            Some(Work::Once(f)) => {
                guarded(|| f(store));
            }
            Some(Work::Steps(mut job)) => match guarded(|| job.step(store)) {
                Some(Ok(true)) => {
                    // Behind what arrived meanwhile, so a sync page or
                    // another pass is not held up for the whole job.
                    shared.queue.lock().unwrap_or_else(|p| p.into_inner()).work.push_back(Work::Steps(job));
                }
                Some(Ok(false)) => {
                    guarded(|| job.finish(store, Ok(())));
                }
                Some(Err(e)) => {
                    guarded(|| job.finish(store, Err(e)));
                }
                None => {
                    guarded(|| job.finish(store, Err(stopped())));
                }
            },
            None => {}
        }
    }
}

/// Runs a job, turning a panic into `None` (logged by the panic hook) so
/// the writer goes on: a job that panicked applied no half batch, since a
/// batch is applied whole or not at all.
fn guarded<T>(f: impl FnOnce() -> T) -> Option<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_run_before_waiting_work_and_are_acknowledged_after_the_flush() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let writer = Writer::spawn(store);
        let order = Arc::new(Mutex::new(Vec::new()));
        // Hold the thread in a first job so the rest queue up behind it.
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
        let o = order.clone();
        writer.push(|q| {
            q.work.push_back(Work::Once(Box::new(move |_| {
                started_tx.send(()).unwrap();
                go_rx.recv().unwrap();
                o.lock().unwrap().push("first work");
            })))
        });
        started_rx.recv().unwrap();
        let o = order.clone();
        writer.push(|q| q.work.push_back(Work::Once(Box::new(move |_| o.lock().unwrap().push("second work")))));
        let o = order.clone();
        writer.edit(move |_| {
            o.lock().unwrap().push("edit");
            let o = o.clone();
            Box::new(move || o.lock().unwrap().push("ack"))
        });
        go_tx.send(()).unwrap();
        writer.run(|_| Ok(())).unwrap();
        assert_eq!(*order.lock().unwrap(), ["first work", "edit", "ack", "second work"]);
    }

    struct Count {
        left: u32,
        log: Arc<Mutex<Vec<String>>>,
        done: std::sync::mpsc::Sender<()>,
    }

    impl Steps for Count {
        fn step(&mut self, _: &Store) -> Result<bool> {
            self.log.lock().unwrap().push(format!("step {}", self.left));
            self.left -= 1;
            Ok(self.left > 0)
        }
        fn finish(self: Box<Self>, _: &Store, outcome: Result<()>) {
            self.log.lock().unwrap().push(format!("finished {}", outcome.is_ok()));
            self.done.send(()).unwrap();
        }
    }

    #[test]
    fn a_long_job_lets_other_work_in_between_its_steps_and_a_panic_does_not_stop_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let writer = Writer::spawn(Store::open(dir.path()).unwrap());
        let log = Arc::new(Mutex::new(Vec::new()));
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
        writer.push(|q| {
            q.work.push_back(Work::Once(Box::new(move |_| {
                started_tx.send(()).unwrap();
                go_rx.recv().unwrap()
            })))
        });
        started_rx.recv().unwrap();
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        writer.steps(Count { left: 2, log: log.clone(), done: done_tx });
        let l = log.clone();
        writer.push(|q| q.work.push_back(Work::Once(Box::new(move |_| l.lock().unwrap().push("page".into())))));
        writer.push(|q| q.work.push_back(Work::Once(Box::new(|_| panic!("a job that fails")))));
        go_tx.send(()).unwrap();
        done_rx.recv().unwrap();
        assert_eq!(*log.lock().unwrap(), ["step 2", "page", "step 1", "finished true"]);
        let answer = writer.run(|_| Ok(7)).unwrap();
        assert_eq!(answer, 7);
        // A borrowed page, written by the writer while the caller waits.
        let page = [1u64, 2, 3];
        let total = writer.run(|_| Ok(page.iter().sum::<u64>())).unwrap();
        assert_eq!((total, page.len()), (6, 3));
        // A job that writes more from the writer itself does not wait on it.
        let w = writer.clone();
        assert_eq!(writer.run(|_| w.run(|_| Ok(1))).unwrap(), 1);
    }

    #[test]
    fn every_edit_sent_is_done_when_the_last_handle_goes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let writer = Writer::spawn(store.clone());
        let done = Arc::new(Mutex::new(0));
        for _ in 0..50 {
            let d = done.clone();
            writer.edit(move |_| {
                *d.lock().unwrap() += 1;
                Box::new(|| {})
            });
        }
        drop(writer);
        assert_eq!(*done.lock().unwrap(), 50);
    }
}
