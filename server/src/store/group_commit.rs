//! Group commit for SQLite's one writer: concurrent session inserts queue for one task, which
//! writes whatever has queued in one transaction and then answers each caller. Under load this
//! turns many small write transactions, each contending for SQLite's lock, into a few larger
//! ones; alone, an insert waits for nothing but its own transaction. Postgres does not use it.

use sqlx::AnyPool;
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::domain::CheckoutSession;

/// The most inserts written in one transaction.
const MAX_BATCH: usize = 256;

struct Job {
    session: CheckoutSession,
    done: oneshot::Sender<Result<(), sqlx::Error>>,
}

/// The queue to the writer task.
#[derive(Debug, Clone)]
pub struct SessionWriter {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("session", &self.session.id)
            .finish()
    }
}

impl SessionWriter {
    /// Starts the writer task on the current runtime; it ends when every writer is dropped.
    pub fn spawn(pool: AnyPool, gate: std::sync::Arc<Semaphore>) -> Self {
        let (jobs, queue) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(pool, gate, queue));
        Self { jobs }
    }

    /// Inserts `session` with whatever else is queued; `None` when the writer is gone (the
    /// caller then inserts on its own).
    pub async fn insert(&self, session: CheckoutSession) -> Option<Result<(), sqlx::Error>> {
        let (done, answer) = oneshot::channel();
        self.jobs.send(Job { session, done }).await.ok()?;
        answer.await.ok()
    }
}

async fn run(pool: AnyPool, gate: std::sync::Arc<Semaphore>, mut queue: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let slot = gate.acquire().await;
        let written = write(&pool, &batch).await;
        drop(slot);
        match written {
            Ok(()) => {
                for job in batch.drain(..) {
                    let _ = job.done.send(Ok(()));
                }
            }
            // One bad row must not fail its neighbours: each is tried alone, with its own error.
            Err(e) => {
                tracing::warn!(error = %e, rows = batch.len(), "batched session insert failed; inserting one by one");
                for job in batch.drain(..) {
                    let one = super::sessions::insert_query(&job.session)
                        .execute(&pool)
                        .await
                        .map(drop);
                    let _ = job.done.send(one);
                }
            }
        }
    }
}

async fn write(pool: &AnyPool, batch: &[Job]) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    for job in batch {
        super::sessions::insert_query(&job.session)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}
