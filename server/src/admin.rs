//! The operator's subcommands: `keys create|list|revoke`, `users create|list|disable|link`,
//! `events replay`.

use std::process::ExitCode;

use crate::config::{Config, DatabaseConfig, EventsCommand, KeysCommand, Mode, UsersCommand};
use crate::store::Store;

async fn open(config: &mut Config) -> Result<Store, String> {
    config
        .prepare_data_dir()
        .map_err(|e| format!("cannot prepare the data directory: {e}"))?;
    Store::connect(config.database_url.expose())
        .await
        .map_err(|e| format!("cannot open the database: {e}"))
}

fn seconds(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

async fn open_database(config: &DatabaseConfig) -> Result<Store, String> {
    crate::config::create_private_dir(&config.data_dir)
        .map_err(|e| format!("cannot prepare the data directory: {e}"))?;
    Store::connect(config.database_url.expose())
        .await
        .map_err(|e| format!("cannot open the database: {e}"))
}

/// Runs a `keys` subcommand, printing to stdout.
#[allow(clippy::print_stdout)]
pub async fn keys(config: DatabaseConfig, cmd: KeysCommand) -> ExitCode {
    let store = match open_database(&config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("paybridge: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mode = if config.mode == Mode::Live {
        "live"
    } else {
        "test"
    };
    let result = match cmd {
        KeysCommand::Create => store.create_api_key(mode).await.map(|(key, secret)| {
            println!("{}\t{}", key.id, secret.expose());
            eprintln!("Store this key now: it is not shown again.");
        }),
        KeysCommand::List => store.list_api_keys().await.map(|keys| {
            for k in keys {
                let state = k.revoked_at.map_or_else(
                    || "active".to_owned(),
                    |t| format!("revoked {}", seconds(t)),
                );
                println!(
                    "{}\t{}\t{}\tcreated {}\t{state}",
                    k.id,
                    k.display,
                    k.mode,
                    seconds(k.created_at)
                );
            }
        }),
        KeysCommand::Revoke { id } => match store.revoke_api_key(&id).await {
            Ok(true) => {
                println!("revoked {id}");
                Ok(())
            }
            Ok(false) => {
                eprintln!("paybridge: no active key {id:?}");
                return ExitCode::FAILURE;
            }
            Err(e) => Err(e),
        },
    };
    store.close().await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("paybridge: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a `users` subcommand, printing to stdout.
#[allow(clippy::print_stdout)]
pub async fn users(config: DatabaseConfig, cmd: UsersCommand) -> ExitCode {
    use crate::service::operators;
    let store = match open_database(&config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("paybridge: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result: Result<(), String> = match cmd {
        UsersCommand::Create {
            username,
            password_stdin,
        } => {
            let (password, generated) = if password_stdin {
                let mut line = String::new();
                match std::io::stdin().read_line(&mut line) {
                    Ok(_) => (line.trim_end_matches(['\r', '\n']).to_owned(), false),
                    Err(e) => (format!("{e}"), false),
                }
            } else {
                (operators::new_token(), true)
            };
            match operators::create(&store, &username, &password).await {
                Ok(op) => {
                    println!("created operator {} ({})", op.username, op.id);
                    if generated {
                        println!("password: {password}");
                        eprintln!("Store this password now: it is not shown again.");
                    }
                    Ok(())
                }
                Err(e) => Err(e.to_string()),
            }
        }
        UsersCommand::List => store
            .list_operators()
            .await
            .map(|ops| {
                for op in ops {
                    let state = op.disabled_at.map_or_else(
                        || "active".to_owned(),
                        |t| format!("disabled {}", seconds(t)),
                    );
                    println!(
                        "{}\t{}\tcreated {}\t{state}",
                        op.username,
                        op.id,
                        seconds(op.created_at)
                    );
                }
            })
            .map_err(|e| e.to_string()),
        UsersCommand::Disable { username } => {
            match store
                .disable_operator(&username, crate::domain::now_millis())
                .await
            {
                Ok(true) => {
                    println!("disabled {username}");
                    Ok(())
                }
                Ok(false) => Err(format!("no enabled operator {username:?}")),
                Err(e) => Err(e.to_string()),
            }
        }
        UsersCommand::Link { username } => match store.operator_by_name(&username).await {
            Ok(Some((op, _))) if op.disabled_at.is_none() => {
                match operators::login_link(&store, &op).await {
                    Ok(token) => {
                        println!("/dashboard/login/link?token={}", token.expose());
                        eprintln!(
                            "Open it under this server's public URL within 24 hours; it works once."
                        );
                        Ok(())
                    }
                    Err(e) => Err(e.to_string()),
                }
            }
            Ok(_) => Err(format!("no enabled operator {username:?}")),
            Err(e) => Err(e.to_string()),
        },
    };
    store.close().await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("paybridge: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs an `events` subcommand.
#[allow(clippy::print_stdout)]
pub async fn events(mut config: Config, cmd: EventsCommand) -> ExitCode {
    let store = match open(&mut config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("paybridge: {e}");
            return ExitCode::FAILURE;
        }
    };
    let EventsCommand::Replay { id } = cmd;
    let code = match store.get_event(&id).await {
        Ok(Some(_)) => match store.replay_event(&id).await {
            Ok(n) => {
                println!(
                    "queued {n} deliver{} of {id}",
                    if n == 1 { "y" } else { "ies" }
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("paybridge: {e}");
                ExitCode::FAILURE
            }
        },
        Ok(None) => {
            eprintln!("paybridge: no event {id:?}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("paybridge: {e}");
            ExitCode::FAILURE
        }
    };
    store.close().await;
    code
}

/// Runs `reconcile --date`: prints each mismatch; exit code 1 when there is any.
#[allow(clippy::print_stdout)]
pub async fn reconcile(mut config: Config, date: &str) -> ExitCode {
    let store = match open(&mut config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("paybridge: {e}");
            return ExitCode::FAILURE;
        }
    };
    let clients = match wechat_clients(&config, &store).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("paybridge: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = crate::service::bills::reconcile(&store, &clients, date).await;
    // Kept for the dashboard's reconciliation page, like runs started there (a malformed date
    // is no run).
    if !matches!(outcome, Err(crate::service::bills::ReconcileError::Date))
        && let Err(e) = crate::service::reconciliations::record(
            &store,
            date,
            &crate::service::reconciliations::Trigger::Command,
            &outcome,
        )
        .await
    {
        eprintln!("paybridge: the result could not be stored: {e}");
    }
    let code = match outcome {
        Ok(report) => {
            println!(
                "{date}: {} bill rows, {} paid orders matched, {} mismatches",
                report.rows,
                report.matched,
                report.mismatches.len()
            );
            for m in &report.mismatches {
                println!("  {m}");
            }
            if report.mismatches.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("paybridge: reconciliation failed: {e}");
            ExitCode::FAILURE
        }
    };
    store.close().await;
    code
}

/// The WeChat clients as the server builds them (the sandbox's point at the running server).
async fn wechat_clients(
    config: &Config,
    store: &Store,
) -> Result<crate::providers::wechat::WechatClients, String> {
    let public = config
        .public_url
        .clone()
        .or_else(|| url::Url::parse(&format!("http://{}/", config.listen)).ok())
        .ok_or("no public URL")?;
    let (_, providers) = crate::server::providers(config, store, &public).await?;
    providers
        .wechat()
        .cloned()
        .ok_or_else(|| "WeChat Pay is not configured".to_owned())
}

/// `paybridge doctor`: the checklist on stdout; exit 0 only when every check passes.
#[allow(clippy::print_stdout)]
pub async fn doctor(config: &Config) -> ExitCode {
    if config.mode == crate::config::Mode::Sandbox {
        eprintln!(
            "paybridge doctor checks a live configuration (PAYBRIDGE_MODE=live); the sandbox needs no checking"
        );
        return ExitCode::from(2);
    }
    let providers = match crate::server::live_providers(config) {
        Ok(p) => p,
        Err(e) => {
            println!(
                "[FAIL] credentials: {e}\n       fix: the key files named in the configuration must hold the keys the providers gave you"
            );
            return ExitCode::from(1);
        }
    };
    let checks = crate::doctor::run(config, &providers).await;
    print!("{}", crate::doctor::render(&checks));
    if checks.iter().all(|c| c.ok) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
