//! A webhook receiver on 127.0.0.1:0 that records what it gets and answers as told.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use tokio::sync::Notify;

/// One received request.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
}

#[derive(Default)]
struct Inner {
    received: Mutex<Vec<Received>>,
    /// Statuses to answer, in order; 200 once exhausted.
    script: Mutex<Vec<u16>>,
    /// While set, requests hang (a receiver that never answers).
    hang: Mutex<bool>,
    failing: Mutex<bool>,
    arrived: Notify,
}

/// A running receiver; its URL is `url`.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    inner: Arc<Inner>,
}

impl Receiver {
    /// Starts a receiver answering `script` statuses first, then 200.
    pub async fn start(script: &[u16]) -> Self {
        let inner = Arc::new(Inner {
            script: Mutex::new(script.iter().rev().copied().collect()),
            ..Inner::default()
        });
        let app = Router::new()
            .route("/hook", post(handle))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let addr = listener.local_addr().expect("receiver addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url: format!("http://{addr}/hook"),
            inner,
        }
    }

    /// While `on`, every request is answered at once with a 500 (a broken receiver).
    pub fn fail(&self, on: bool) {
        *self.inner.failing.lock().expect("lock") = on;
    }

    /// Makes requests hang (`true`) or be answered (`false`).
    pub fn hang(&self, on: bool) {
        *self.inner.hang.lock().expect("lock") = on;
    }

    /// Everything received so far.
    #[must_use]
    pub fn received(&self) -> Vec<Received> {
        self.inner.received.lock().expect("lock").clone()
    }

    /// Waits until at least `n` requests arrived.
    ///
    /// # Panics
    /// After `deadline`.
    pub async fn wait_for(&self, n: usize, deadline: std::time::Duration) -> Vec<Received> {
        let end = tokio::time::Instant::now() + deadline;
        loop {
            let notified = self.inner.arrived.notified();
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                tokio::time::timeout_at(end, notified).await.is_ok(),
                "receiver got {} of {n} requests within {deadline:?}",
                got.len()
            );
        }
    }
}

async fn handle(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    inner
        .received
        .lock()
        .expect("lock")
        .push(Received { headers, body });
    inner.arrived.notify_waiters();
    if *inner.hang.lock().expect("lock") {
        std::future::pending::<()>().await;
    }
    if *inner.failing.lock().expect("lock") {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    let status = inner.script.lock().expect("lock").pop().unwrap_or(200);
    StatusCode::from_u16(status).unwrap_or(StatusCode::OK)
}

impl Receiver {
    /// A receiver answering 200, registered as a webhook endpoint of `app` for every event.
    ///
    /// # Panics
    /// When the endpoint cannot be registered.
    pub async fn registered(app: &crate::TestApp) -> Self {
        let receiver = Self::start(&[]).await;
        let (status, body) = app
            .api_post(
                "/v1/webhook_endpoints",
                &serde_json::json!({"url": receiver.url}),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        receiver
    }

    /// How many events of `kind` about `object_id` arrived so far.
    #[must_use]
    pub fn count(&self, kind: &str, object_id: &str) -> usize {
        self.events(kind, object_id).len()
    }

    fn events(&self, kind: &str, object_id: &str) -> Vec<serde_json::Value> {
        self.received()
            .iter()
            .filter_map(|r| serde_json::from_slice::<serde_json::Value>(&r.body).ok())
            .filter(|e| e["type"] == kind && e["data"]["object"]["id"] == object_id)
            .collect()
    }

    /// Waits for an event of `kind` about `object_id` and returns it.
    ///
    /// # Panics
    /// When none arrives within 20 seconds.
    pub async fn event(&self, kind: &str, object_id: &str) -> serde_json::Value {
        crate::wait::until(
            &format!("a {kind} webhook"),
            std::time::Duration::from_secs(20),
            || async { self.events(kind, object_id).into_iter().next() },
        )
        .await
    }
}
