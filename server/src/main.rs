//! The `paybridge` binary: configuration → telemetry → serve.

use std::process::ExitCode;

/// mimalloc instead of the C library's allocator: a request allocates and frees many small
/// buffers across threads (the HTTP and JSON layers, sqlx's worker hand-offs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use paybridge_server::config::{Cli, Command, EventsCommand};
use paybridge_server::{Server, server::shutdown_signal, telemetry};

enum Admin {
    Events(EventsCommand),
    Reconcile(String),
    Doctor,
}

/// Runs a subcommand that needs only the database settings.
fn database_only<F, Fut>(cli: &Cli, run: F) -> ExitCode
where
    F: FnOnce(paybridge_server::config::DatabaseConfig) -> Fut,
    Fut: std::future::Future<Output = ExitCode>,
{
    let config = match cli.settings.validate_database() {
        Ok(config) => config,
        Err(problems) => {
            eprintln!("{problems}");
            return ExitCode::from(2);
        }
    };
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(run(config)),
        Err(e) => {
            eprintln!("paybridge: cannot start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Keys and operators need only the database: an operator creates them before configuring
    // WeChat.
    match cli.command.clone() {
        Some(Command::Keys(cmd)) => {
            return database_only(&cli, |config| paybridge_server::admin::keys(config, cmd));
        }
        Some(Command::Users(cmd)) => {
            return database_only(&cli, |config| paybridge_server::admin::users(config, cmd));
        }
        _ => {}
    }
    let config = match cli.settings.validate() {
        Ok(config) => config,
        Err(problems) => {
            eprintln!("{problems}");
            return ExitCode::from(2);
        }
    };
    let admin = match cli.command.clone() {
        Some(Command::Events(cmd)) => Some(Admin::Events(cmd)),
        Some(Command::Reconcile { date }) => Some(Admin::Reconcile(date)),
        Some(Command::Doctor) => Some(Admin::Doctor),
        _ => None,
    };
    if matches!(cli.command, Some(Command::CheckConfig)) {
        eprintln!("configuration is valid:\n{config:#?}");
        return ExitCode::SUCCESS;
    }
    if admin.is_none() {
        // Subcommands print results on stdout; only the server logs.
        telemetry::init(config.log_format);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("paybridge: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(admin) = admin {
        return runtime.block_on(async move {
            match admin {
                Admin::Events(cmd) => paybridge_server::admin::events(config, cmd).await,
                Admin::Reconcile(date) => paybridge_server::admin::reconcile(config, &date).await,
                Admin::Doctor => paybridge_server::admin::doctor(&config).await,
            }
        });
    }
    runtime.block_on(async move {
        let mode = config.mode;
        let server = match Server::bind(config).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "paybridge could not start");
                eprintln!("paybridge: {e}");
                return ExitCode::FAILURE;
            }
        };
        eprintln!(
            "\n  paybridge is running in {} mode — open {}",
            mode.as_str(),
            server.public_url()
        );
        if let Ok(admin) = server.admin_addr() {
            eprintln!(
                "  metrics and readiness detail: http://{admin}/metrics, http://{admin}/readyz"
            );
        }
        if let Some(key) = server.sandbox_key() {
            // The sandbox key only works against this sandbox; printing it is the point.
            eprintln!("  sandbox API key: {}", key.expose());
        }
        if let Some(link) = server.dashboard_link() {
            // A one-time link for the sandbox's `demo` operator; it works once, for 24 hours.
            eprintln!("  dashboard (one-time sign-in link): {link}\n");
        }
        match server.serve(shutdown_signal()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!(error = %e, "server error");
                ExitCode::FAILURE
            }
        }
    })
}
