//! Group commit: concurrent requests (a new session, a payment completion) queue for a writer,
//! which writes whatever has queued in one transaction and then answers each caller. Under
//! load this turns many small write transactions — each a commit the database must make
//! durable, and on SQLite each contending for its one lock — into a few larger ones; alone, a
//! request waits for nothing but its own transaction. A kind of request may also write its
//! whole group in a few multi-row statements (payment completions do): every statement is a
//! round trip (to SQLite's worker thread, or to Postgres), and the writer is the one place
//! where they add up.
//!
//! SQLite has one writer on a thread of its own. Postgres has several writer tasks taking
//! groups from one queue, at most a few writing at once across all kinds (see
//! [`Grouping::Tasks`]): one writer would queue every instance's writes behind one
//! connection, and a transaction per request spent a commit each.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use sqlx::AnyPool;
use tokio::sync::{Mutex, Semaphore, mpsc, oneshot};

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

/// Requests waiting for a writer, shared by a kind's writers.
type Queue<I, O> = Arc<Mutex<mpsc::Receiver<(I, Answer<O>)>>>;

/// How requests are grouped on a database.
#[derive(Clone, Debug)]
pub enum Grouping {
    /// One writer on a thread of its own, holding `gate` (SQLite's one write slot) while it
    /// writes a group.
    Thread(Arc<Semaphore>),
    /// `writers` tasks on the caller's runtime share one queue; each holds a permit of `gate`
    /// (shared by every kind, so writers never take more of the pool than it has permits)
    /// while it writes a group.
    Tasks {
        writers: usize,
        gate: Arc<Semaphore>,
    },
}

/// Requests of one kind written through `write`, grouped as [`Grouping`] says.
pub struct Batched<I, O> {
    pool: AnyPool,
    write: WriteGroup<I, O>,
    jobs: mpsc::Sender<(I, Answer<O>)>,
}

impl<I, O> std::fmt::Debug for Batched<I, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batched").finish_non_exhaustive()
    }
}

impl<I: Send + Sync + 'static, O: Send + 'static> Batched<I, O> {
    /// Starts the writers `grouping` asks for; they end when this is dropped.
    ///
    /// SQLite's writer has its own single-threaded runtime: on the shared one, each of its
    /// many awaits (a statement's answer from SQLite's worker thread) queued behind every
    /// ready request handler, and the writer — the one place all writes pass — took twice as
    /// long. Postgres's writers wait on the network, so they are tasks on the shared runtime
    /// (which `new` must then be called on).
    ///
    /// # Errors
    /// When the thread or its runtime cannot be started.
    pub fn new(
        pool: AnyPool,
        grouping: &Grouping,
        write: WriteGroup<I, O>,
    ) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel(4 * MAX_BATCH);
        let queue = Arc::new(Mutex::new(queue));
        match grouping {
            Grouping::Thread(gate) => {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                let (pool, write, gate) = (pool.clone(), write.clone(), gate.clone());
                std::thread::Builder::new()
                    .name("paybridge-writer".into())
                    .spawn(move || runtime.block_on(run(pool, gate, write, queue)))?;
            }
            Grouping::Tasks { writers, gate } => {
                for _ in 0..(*writers).max(1) {
                    tokio::spawn(run(
                        pool.clone(),
                        gate.clone(),
                        write.clone(),
                        queue.clone(),
                    ));
                }
            }
        }
        Ok(Self { pool, write, jobs })
    }

    /// Writes `item`, in a transaction shared with whatever else is queued.
    ///
    /// # Errors
    /// On a database error, or when the writer task is gone in the middle of the request.
    pub async fn submit(&self, item: I) -> Result<O, sqlx::Error> {
        let (done, answer) = oneshot::channel();
        match self.jobs.send((item, done)).await {
            Ok(()) => answer.await.map_err(|_| sqlx::Error::WorkerCrashed)?,
            // The writers are gone (shutting down): write it here.
            Err(mpsc::error::SendError((item, _))) => {
                write_alone(&self.pool, &self.write, &item).await
            }
        }
    }
}

/// A writer: takes what has queued (up to [`MAX_BATCH`]), waits for a permit of `gate`, adds
/// what queued meanwhile, writes it all as one group, answers, and again until the queue
/// closes. Several writers may share `queue`; the one waiting on it takes the next group.
async fn run<I, O>(
    pool: AnyPool,
    gate: Arc<Semaphore>,
    write: WriteGroup<I, O>,
    queue: Queue<I, O>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        if queue.lock().await.recv_many(&mut batch, MAX_BATCH).await == 0 {
            return;
        }
        let Ok(slot) = gate.acquire().await else {
            return;
        };
        if let Ok(mut more) = queue.try_lock() {
            while batch.len() < MAX_BATCH {
                match more.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
        }
        let (items, answers): (Vec<I>, Vec<Answer<O>>) = batch.drain(..).unzip();
        match write_group(&pool, &write, &items).await {
            Ok(outputs) => {
                for (done, output) in answers.into_iter().zip(outputs) {
                    let _ = done.send(Ok(output));
                }
            }
            // One failing request must not fail its neighbours (nor a lock conflict between
            // two groups on Postgres fail both): each is written alone, with its own
            // transaction and its own error.
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
