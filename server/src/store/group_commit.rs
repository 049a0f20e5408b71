//! Group commit for SQLite's one writer: concurrent units of work (a new session, a payment
//! completion) queue for one task, which writes whatever has queued in one transaction and then
//! answers each caller. Under load this turns many small write transactions, each contending
//! for SQLite's lock, into a few larger ones; alone, a unit waits for nothing but its own
//! transaction. Postgres does not use it.

use sqlx::AnyPool;
use tokio::sync::{Semaphore, mpsc, oneshot};

/// The most units written in one transaction.
const MAX_BATCH: usize = 256;

/// A unit of work for [`GroupWriter`]: statements run inside a transaction it is given. It may
/// run twice (once in a shared transaction that is rolled back because of another unit, then
/// alone), so it must not have effects outside the transaction.
pub type Work = std::sync::Arc<
    dyn for<'t> Fn(
            &'t mut super::Tx,
        ) -> futures_util::future::BoxFuture<
            't,
            Result<Box<dyn std::any::Any + Send>, sqlx::Error>,
        > + Send
        + Sync,
>;

type Answer = oneshot::Sender<Result<Box<dyn std::any::Any + Send>, sqlx::Error>>;

/// Group commit for SQLite's one writer, for any unit of work: units queued while a transaction
/// is being written are written together in the next one.
#[derive(Clone)]
pub struct GroupWriter {
    jobs: mpsc::Sender<(Work, Answer)>,
}

impl std::fmt::Debug for GroupWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupWriter").finish_non_exhaustive()
    }
}

impl GroupWriter {
    /// Starts the writer task on the current runtime; it ends when every writer is dropped.
    pub fn spawn(pool: AnyPool, gate: std::sync::Arc<Semaphore>) -> Self {
        let (jobs, queue) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run_work(pool, gate, queue));
        Self { jobs }
    }

    /// Runs `work` in a transaction shared with whatever else is queued; `None` when the
    /// writer is gone.
    pub async fn write(
        &self,
        work: Work,
    ) -> Option<Result<Box<dyn std::any::Any + Send>, sqlx::Error>> {
        let (done, answer) = oneshot::channel();
        self.jobs.send((work, done)).await.ok()?;
        answer.await.ok()
    }
}

async fn run_work(
    pool: AnyPool,
    gate: std::sync::Arc<Semaphore>,
    mut queue: mpsc::Receiver<(Work, Answer)>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let slot = gate.acquire().await;
        match write_all(&pool, &batch).await {
            Ok(outputs) => {
                for ((_, done), output) in batch.drain(..).zip(outputs) {
                    let _ = done.send(Ok(output));
                }
            }
            // One failing unit must not fail its neighbours: each runs alone, with its own
            // transaction and its own error.
            Err(e) => {
                tracing::warn!(error = %e, units = batch.len(), "batched write failed; writing one by one");
                for (work, done) in batch.drain(..) {
                    let _ = done.send(write_one(&pool, &work).await);
                }
            }
        }
        drop(slot);
    }
}

async fn write_all(
    pool: &AnyPool,
    batch: &[(Work, Answer)],
) -> Result<Vec<Box<dyn std::any::Any + Send>>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mut outputs = Vec::with_capacity(batch.len());
    for (work, _) in batch {
        outputs.push(work(&mut tx).await?);
    }
    tx.commit().await?;
    Ok(outputs)
}

/// Runs `work` in a transaction of its own.
pub async fn write_one(
    pool: &AnyPool,
    work: &Work,
) -> Result<Box<dyn std::any::Any + Send>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let output = work(&mut tx).await?;
    tx.commit().await?;
    Ok(output)
}
