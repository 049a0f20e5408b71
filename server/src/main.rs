//! The `paybridge` binary: configuration → telemetry → serve.

use std::process::ExitCode;

use clap::Parser;
use paybridge_server::config::{Cli, Command};
use paybridge_server::{Server, server::shutdown_signal, telemetry};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match cli.settings.validate() {
        Ok(config) => config,
        Err(problems) => {
            eprintln!("{problems}");
            return ExitCode::from(2);
        }
    };
    if matches!(cli.command, Some(Command::CheckConfig)) {
        eprintln!("configuration is valid:\n{config:#?}");
        return ExitCode::SUCCESS;
    }
    telemetry::init(config.log_format);
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
        if let Some(url) = server.public_url() {
            eprintln!(
                "\n  paybridge is running in {} mode — open {url}\n",
                mode.as_str()
            );
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
