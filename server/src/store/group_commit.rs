//! Group commit for SQLite's one writer: concurrent requests (a new session, a payment
//! completion) queue for one task, which writes whatever has queued in one transaction and then
//! answers each caller. Under load this turns many small write transactions, each contending
//! for SQLite's lock, into a few larger ones; alone, a request waits for nothing but its own
//! transaction. A kind of request may also write its whole group in a few multi-row statements
//! (payment completions do): every statement is a round trip to SQLite's worker thread, and
//! the writer is the one place where they add up. Postgres does not use it.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use sqlx::AnyPool;
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::Tx;

/// The most requests written in one transaction.
const MAX_BATCH: usize = 256;

/// Writes a group of requests inside the transaction it is given and returns one output per
/// request, in order. It may be called twice for a request (once in a group whose transaction
/// is rolled back because of another request, then alone), so it must not have effects
/// outside the transaction.
pub type WriteGroup<I, O> = Arc<
    dyn for<'t> Fn(&'t mut Tx, &'t [I]) -> BoxFuture<'t, Result<Vec<O>, sqlx::Error>> + Send + Sync,
>;

type Answer<O> = oneshot::Sender<Result<O, sqlx::Error>>;

/// Requests of one kind written through `write`: in groups by one task on SQLite, each in a
/// transaction of its own on Postgres.
pub struct Batched<I, O> {
    pool: AnyPool,
    write: WriteGroup<I, O>,
    /// SQLite only.
    jobs: Option<mpsc::Sender<(I, Answer<O>)>>,
}

impl<I, O> std::fmt::Debug for Batched<I, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batched")
            .field("grouped", &self.jobs.is_some())
            .finish_non_exhaustive()
    }
}

impl<I: Send + Sync + 'static, O: Send + 'static> Batched<I, O> {
    /// With `gate` (SQLite's writer slot) starts the writer on a thread of its own; it ends
    /// when this is dropped. Without, every request is written on its own.
    ///
    /// The writer has its own single-threaded runtime: on the shared one, each of its many
    /// awaits (a statement's answer from SQLite's worker thread) queued behind every ready
    /// request handler, and the writer — the one place all writes pass — took twice as long.
    ///
    /// # Errors
    /// When the thread or its runtime cannot be started.
    pub fn new(
        pool: AnyPool,
        gate: Option<Arc<Semaphore>>,
        write: WriteGroup<I, O>,
    ) -> std::io::Result<Self> {
        let jobs = match gate {
            Some(gate) => {
                let (jobs, queue) = mpsc::channel(4 * MAX_BATCH);
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                let (pool, write) = (pool.clone(), write.clone());
                std::thread::Builder::new()
                    .name("paybridge-writer".into())
                    .spawn(move || runtime.block_on(run(pool, gate, write, queue)))?;
                Some(jobs)
            }
            None => None,
        };
        Ok(Self { pool, write, jobs })
    }

    /// Writes `item`, in a transaction shared with whatever else is queued where there is a
    /// writer task.
    ///
    /// # Errors
    /// On a database error, or when the writer task is gone in the middle of the request.
    pub async fn submit(&self, item: I) -> Result<O, sqlx::Error> {
        let item = match &self.jobs {
            Some(jobs) => {
                let (done, answer) = oneshot::channel();
                match jobs.send((item, done)).await {
                    Ok(()) => return answer.await.map_err(|_| sqlx::Error::WorkerCrashed)?,
                    // The writer is gone (shutting down): write it here.
                    Err(mpsc::error::SendError((item, _))) => item,
                }
            }
            None => item,
        };
        write_alone(&self.pool, &self.write, &item).await
    }
}

async fn run<I, O>(
    pool: AnyPool,
    gate: Arc<Semaphore>,
    write: WriteGroup<I, O>,
    mut queue: mpsc::Receiver<(I, Answer<O>)>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let slot = gate.acquire().await;
        let (items, answers): (Vec<I>, Vec<Answer<O>>) = batch.drain(..).unzip();
        match write_group(&pool, &write, &items).await {
            Ok(outputs) => {
                for (done, output) in answers.into_iter().zip(outputs) {
                    let _ = done.send(Ok(output));
                }
            }
            // One failing request must not fail its neighbours: each is written alone, with
            // its own transaction and its own error.
            Err(e) => {
                tracing::warn!(error = %e, units = items.len(), "batched write failed; writing one by one");
                for (item, done) in items.iter().zip(answers) {
                    let _ = done.send(write_alone(&pool, &write, item).await);
                }
            }
        }
        drop(slot);
    }
}

async fn write_group<I, O>(
    pool: &AnyPool,
    write: &WriteGroup<I, O>,
    items: &[I],
) -> Result<Vec<O>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let outputs = write(&mut tx, items).await?;
    if outputs.len() != items.len() {
        return Err(sqlx::Error::Protocol(format!(
            "a group write returned {} outputs for {} requests",
            outputs.len(),
            items.len()
        )));
    }
    tx.commit().await?;
    Ok(outputs)
}

/// Writes `item` in a transaction of its own.
async fn write_alone<I, O>(
    pool: &AnyPool,
    write: &WriteGroup<I, O>,
    item: &I,
) -> Result<O, sqlx::Error> {
    write_group(pool, write, std::slice::from_ref(item))
        .await?
        .pop()
        .ok_or_else(|| sqlx::Error::Protocol("a group write returned nothing".into()))
}
