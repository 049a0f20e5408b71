//! Prometheus metric families: request counts and latency by route template and status, provider
//! mismatches, unmatched payments and refusals by limit. The HTTP side (the middleware and
//! `/metrics`) is `api::metrics`.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};

/// The server's metric families, in a registry of their own (no global state).
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    mismatches: prometheus::IntCounter,
    unmatched: prometheus::IntCounter,
    refused: IntCounterVec,
    key_expiry: prometheus::IntGaugeVec,
}

impl Metrics {
    /// Sets the expiry gauges to `keys` (the set as it is now; keys gone since are dropped).
    pub fn set_key_expiry<'a>(&self, keys: impl IntoIterator<Item = (&'a str, &'a str, i64)>) {
        self.key_expiry.reset();
        for (kind, serial, seconds_left) in keys {
            self.key_expiry
                .with_label_values(&[kind, serial])
                .set(seconds_left);
        }
    }

    /// Creates and registers the metric families.
    ///
    /// # Errors
    /// Only if two families collide, which is a programming error.
    pub fn new() -> prometheus::Result<Self> {
        let registry = Registry::new();
        let labels = ["method", "route", "status"];
        let requests = IntCounterVec::new(
            Opts::new("paybridge_http_requests_total", "HTTP requests answered"),
            &labels,
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "paybridge_http_request_duration_seconds",
                "Time to answer an HTTP request",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &labels,
        )?;
        let mismatches = prometheus::IntCounter::new(
            "paybridge_provider_mismatches_total",
            "Authentic provider transactions that disagreed with our payment attempt (alert on any)",
        )?;
        let unmatched = prometheus::IntCounter::new(
            "paybridge_unmatched_payments_total",
            "Authentic provider reports of trades no payment attempt has, recorded as unmatched payments (alert on any)",
        )?;
        let refused = IntCounterVec::new(
            Opts::new(
                "paybridge_refused_total",
                "Connections, streams and requests refused by a limit, by limit",
            ),
            &["limit"],
        )?;
        let key_expiry = prometheus::IntGaugeVec::new(
            Opts::new(
                "paybridge_key_expiry_seconds",
                "Seconds until a WeChat Pay platform certificate expires, by kind and serial (alert below 30 days)",
            ),
            &["kind", "serial"],
        )?;
        registry.register(Box::new(key_expiry.clone()))?;
        registry.register(Box::new(refused.clone()))?;
        registry.register(Box::new(mismatches.clone()))?;
        registry.register(Box::new(unmatched.clone()))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
            mismatches,
            unmatched,
            refused,
            key_expiry,
        })
    }

    /// Counts one refusal by the named limit (always one of a fixed set of names).
    pub fn refused(&self, limit: &'static str) {
        self.refused.with_label_values(&[limit]).inc();
    }

    /// Counts a provider transaction that disagreed with our records.
    pub fn provider_mismatch(&self) {
        self.mismatches.inc();
    }

    /// Counts a newly recorded unmatched payment.
    pub fn unmatched_payment(&self) {
        self.unmatched.inc();
    }

    /// The registry, for other modules' families.
    #[must_use]
    pub const fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Counts one answered request and its time, under labels from a fixed set.
    pub fn observe(&self, method: &str, route: &str, status: &str, seconds: f64) {
        let labels = [method, route, status];
        self.requests.with_label_values(&labels).inc();
        self.latency.with_label_values(&labels).observe(seconds);
    }

    /// The text exposition of every family.
    ///
    /// # Errors
    /// When a family cannot be encoded.
    pub fn render(&self) -> Result<String, prometheus::Error> {
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        String::from_utf8(out).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }
}
