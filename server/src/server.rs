//! Binding the listener and serving until a shutdown signal, draining requests in flight.

use std::future::Future;
use std::net::SocketAddr;

use tokio::net::TcpListener;
use url::Url;

use crate::app::app;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::providers::Providers;
use crate::service::{Parts, Rules, Services, Urls};
use crate::state::AppState;
use crate::store::Store;
use crate::web::page::Page;

/// How long a shutdown waits for handlers whose clients already left (a provider call takes
/// at most about half of this, retries included).
const DRAIN_DETACHED: std::time::Duration = std::time::Duration::from_secs(60);

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot prepare the data directory: {0}")]
    DataDir(#[source] std::io::Error),
    #[error("cannot open the database: {0}")]
    Database(#[source] sqlx::Error),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    OtherMode(crate::store::mode::OtherMode),
    #[error("cannot set up: {0}")]
    Setup(String),
}

/// A server bound to its port, ready to serve.
pub struct Server {
    listener: TcpListener,
    /// The operations listener (`/metrics`, readiness detail).
    admin: TcpListener,
    router: axum::Router,
    state: AppState,
    sandbox_key: Option<crate::secret::Secret<String>>,
    /// Sandbox mode: a one-time dashboard sign-in link's token.
    dashboard_link: Option<crate::secret::Secret<String>>,
}

impl Server {
    /// Prepares the data dir, opens the database, loads the page and binds the listener.
    ///
    /// # Errors
    /// [`StartError`] naming what failed.
    pub async fn bind(mut config: Config) -> Result<Self, StartError> {
        config.prepare_data_dir().map_err(StartError::DataDir)?;
        let store = Store::connect(config.database_url.expose())
            .await
            .map_err(StartError::Database)?;
        store.claim_mode(config.mode).await.map_err(|e| match e {
            crate::store::mode::ModeError::Other(other) => StartError::OtherMode(other),
            crate::store::mode::ModeError::Database(e) => StartError::Database(e),
        })?;
        let sandbox_key = if config.mode == crate::config::Mode::Sandbox {
            Some(
                crate::sandbox_key::ensure(&store, &config.data_dir)
                    .await
                    .map_err(|e| StartError::Setup(e.to_string()))?,
            )
        } else {
            None
        };
        let dashboard_link = if config.mode == crate::config::Mode::Sandbox {
            Some(
                crate::service::operators::sandbox_link(&store)
                    .await
                    .map_err(|e| StartError::Setup(e.to_string()))?,
            )
        } else {
            None
        };
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| StartError::Listen {
                    addr: config.listen,
                    source,
                })?;
        let admin = TcpListener::bind(config.admin_listen)
            .await
            .map_err(|source| StartError::Listen {
                addr: config.admin_listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Listen {
            addr: config.listen,
            source,
        })?;
        let public_url = match &config.public_url {
            Some(url) => url.clone(),
            None => Url::parse(&format!("http://{addr}/"))
                .map_err(|e| StartError::Setup(e.to_string()))?,
        };
        let page = Page::load(&config.dist_dir);
        let metrics = Metrics::new().map_err(|e| StartError::Setup(e.to_string()))?;
        tracing::info!(mode = config.mode.as_str(), database = store.kind().as_str(), %addr, page_built = page.is_built(), "paybridge starting");
        let secret_key = config
            .secret_key
            .clone()
            .ok_or_else(|| StartError::Setup("no secret key".into()))?;
        let (sandbox, providers) = providers(&config, &store, &public_url)
            .await
            .map_err(StartError::Setup)?;
        let services = Services::new(Parts {
            store,
            providers,
            urls: Urls::new(public_url),
            metrics,
            secret_key,
            livemode: config.mode == crate::config::Mode::Live,
            rules: Rules {
                max_amount: config.max_amount,
                redirect_origins: config.redirect_origins.clone(),
                webhook_allowed_networks: config.webhook_allowed_networks.clone(),
            },
        })
        .map_err(|e| StartError::Setup(format!("database writer: {e}")))?;
        let state = AppState::new(config, services, page, sandbox);
        let router = app(state.clone()).map_err(|e| StartError::Setup(e.to_string()))?;
        Ok(Self {
            listener,
            admin,
            router,
            state,
            sandbox_key,
            dashboard_link,
        })
    }

    /// The address actually bound (useful with port 0).
    ///
    /// # Errors
    /// If the socket has gone away.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The address the operations listener bound.
    ///
    /// # Errors
    /// If the socket has gone away.
    pub fn admin_addr(&self) -> std::io::Result<SocketAddr> {
        self.admin.local_addr()
    }

    /// The public base URL (configured, or derived from the bound address).
    #[must_use]
    pub fn public_url(&self) -> Url {
        self.state.public_url()
    }

    /// The sandbox's test API key (sandbox mode only).
    #[must_use]
    pub const fn sandbox_key(&self) -> Option<&crate::secret::Secret<String>> {
        self.sandbox_key.as_ref()
    }

    /// Sandbox mode: the URL of a one-time dashboard sign-in for the `demo` operator.
    #[must_use]
    pub fn dashboard_link(&self) -> Option<String> {
        self.dashboard_link.as_ref().map(|t| {
            format!(
                "{}dashboard/login/link?token={}",
                self.public_url(),
                t.expose()
            )
        })
    }

    /// The shared state (tests use its store).
    #[must_use]
    pub const fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then lets requests in flight finish.
    ///
    /// # Errors
    /// On an I/O error from the listener.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let Self {
            listener,
            admin,
            router,
            state,
            ..
        } = self;
        // The operations listener: stopped with the public one.
        let stop_admin = tokio_util::sync::CancellationToken::new();
        let admin_served = tokio::spawn({
            let stop = stop_admin.clone();
            let router = crate::app::admin(state.clone());
            async move {
                axum::serve(admin, router)
                    .with_graceful_shutdown(async move { stop.cancelled().await })
                    .await
            }
        });
        // Sandbox mode: the simulator's notification sender runs beside the server.
        let sandbox_notifier = state.sandbox().map(crate::sandbox::Sandbox::spawn_notifier);
        let jobs = crate::jobs::Jobs::start(&state);
        let streams = std::sync::Arc::clone(state.status_streams());
        let shutdown = async move {
            shutdown.await;
            // Event streams never finish by themselves: end them so connections can close.
            streams.stop();
        };
        let served = crate::connections::serve(
            listener,
            router,
            state.config().limits,
            state.config().trusted_proxies.clone(),
            state.metrics().clone(),
            shutdown,
        )
        .await;
        stop_admin.cancel();
        if let Ok(Err(e)) = admin_served.await {
            tracing::warn!(error = %e, "the operations listener failed");
        }
        // Handlers whose clients left before the answer are still finishing their writes.
        state.detached().close();
        if tokio::time::timeout(DRAIN_DETACHED, state.detached().wait())
            .await
            .is_err()
        {
            tracing::warn!(
                left = state.detached().len(),
                "request handlers still running at shutdown; their attempts are left to the reconciler"
            );
        }
        jobs.stop().await;
        if let Some(notifier) = sandbox_notifier {
            notifier.stop().await;
        }
        served?;
        state.store().close().await;
        tracing::info!("paybridge stopped");
        Ok(())
    }
}

/// The providers: the simulator's in sandbox mode (started here, and returned to be served),
/// built exactly as live ones are from the live configuration otherwise.
///
/// # Errors
/// A sentence naming what could not be built.
pub async fn providers(
    config: &Config,
    store: &Store,
    public_url: &Url,
) -> Result<(Option<crate::sandbox::Sandbox>, Providers), String> {
    if config.mode == crate::config::Mode::Sandbox {
        let sandbox = crate::sandbox::Sandbox::start(config, store, public_url)
            .await
            .map_err(|e| format!("sandbox: {e}"))?;
        let providers = sandbox
            .providers(public_url)
            .map_err(|e| format!("sandbox {e}"))?;
        Ok((Some(sandbox), providers))
    } else {
        Ok((None, live_providers(config)?))
    }
}

/// The real providers a live configuration names.
///
/// # Errors
/// When a key file cannot be read or holds no usable key.
pub fn live_providers(config: &Config) -> Result<Providers, String> {
    Providers::build(
        config
            .wechat
            .as_ref()
            .map(|w| (w, &config.wechat_endpoints)),
        config.alipay.as_ref().map(|a| (a, &config.alipay_gateway)),
    )
    .map_err(|e| e.to_string())
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received; finishing requests in flight");
}
