//! The bounded pool extraction runs on. Extraction is CPU-bound: at most `workers` run at
//! once on blocking threads, at most `queue` more wait, and a request beyond that is turned
//! away at once (`503` with `Retry-After`) instead of waiting without bound.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(Clone)]
pub struct Pool {
    /// One permit per request in flight (running or waiting).
    slots: Arc<Semaphore>,
    /// One permit per running extraction.
    workers: Arc<Semaphore>,
    capacity: usize,
    worker_count: usize,
}

/// A request's place in the pool; dropping it frees the place.
pub struct Slot {
    _permit: OwnedSemaphorePermit,
}

#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    #[error("the extraction panicked: {0}")]
    Panicked(String),
    #[error("the pool is closed")]
    Closed,
}

impl Pool {
    pub fn new(workers: usize, queue: usize) -> Self {
        let workers = workers.max(1);
        let capacity = workers + queue;
        Pool {
            slots: Arc::new(Semaphore::new(capacity)),
            workers: Arc::new(Semaphore::new(workers)),
            capacity,
            worker_count: workers,
        }
    }

    /// A place for one request, or `None` when the pool is full.
    pub fn try_enter(&self) -> Option<Slot> {
        self.slots
            .clone()
            .try_acquire_owned()
            .ok()
            .map(|p| Slot { _permit: p })
    }

    /// Runs `work` on a blocking thread once a worker is free. The slot and the worker are
    /// held until `work` has returned, even if the caller stops waiting (a timed-out request
    /// still occupies its worker until the extraction ends, so the pool never runs more than
    /// `workers` at once).
    pub async fn run<T, F>(&self, slot: Slot, work: F) -> Result<T, PoolError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let worker = self
            .workers
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| PoolError::Closed)?;
        let handle = tokio::task::spawn_blocking(move || {
            let _held = (slot, worker);
            work()
        });
        handle.await.map_err(|e| {
            let msg = if e.is_panic() {
                let payload = e.into_panic();
                payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown cause".into())
            } else {
                "cancelled".into()
            };
            PoolError::Panicked(msg)
        })
    }

    /// Requests in flight (running or waiting).
    pub fn in_flight(&self) -> usize {
        self.capacity - self.slots.available_permits()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn workers(&self) -> usize {
        self.worker_count
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_pool_turns_requests_away_and_frees_places() {
        let pool = Pool::new(1, 1);
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let a = pool.try_enter().expect("first place");
        let b = pool.try_enter().expect("second place (queue)");
        assert!(pool.try_enter().is_none(), "the pool holds two");
        assert_eq!(pool.in_flight(), 2);
        let p = pool.clone();
        let running = tokio::spawn(async move { p.run(a, move || rx.recv().is_ok()).await });
        drop(b);
        assert!(pool.try_enter().is_some(), "a dropped slot is free again");
        tx.send(()).unwrap();
        assert!(running.await.unwrap().unwrap());
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(pool.in_flight(), 0);
    }

    #[tokio::test]
    async fn a_panic_is_an_error_and_the_place_comes_back() {
        let pool = Pool::new(1, 0);
        let slot = pool.try_enter().unwrap();
        let r: Result<(), _> = pool.run(slot, || panic!("boom")).await;
        assert!(matches!(r, Err(PoolError::Panicked(m)) if m == "boom"));
        assert!(pool.try_enter().is_some());
    }
}
