//! The list of configuration problems, printed together at start.

use std::fmt;

/// Every missing or malformed setting, each named by its env var and flag.
#[derive(Debug, Default)]
pub struct Problems(Vec<(String, String)>);

impl Problems {
    /// Records that the setting `env` is wrong, and why (never including a secret's value).
    pub fn push(&mut self, env: &str, why: impl Into<String>) {
        self.0.push((env.to_owned(), why.into()));
    }

    /// `raw` as a positive whole number; otherwise records that `env` is not one and gives
    /// `default`, so every problem is still found in one pass.
    pub fn positive(&mut self, raw: &str, env: &str, default: u64) -> u64 {
        match raw.trim().parse::<u64>() {
            Ok(n) if n > 0 => n,
            _ => {
                self.push(env, format!("{raw:?} is not a positive whole number"));
                default
            }
        }
    }

    /// True when nothing was wrong.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The env var names with problems, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(n, _)| n.as_str())
    }
}

/// `WECHAT_APIV3_KEY` → `--wechat-apiv3-key`; `PAYBRIDGE_LISTEN` → `--listen`.
fn flag_of(env: &str) -> String {
    let bare = env.strip_prefix("PAYBRIDGE_").unwrap_or(env);
    format!("--{}", bare.to_ascii_lowercase().replace('_', "-"))
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        writeln!(
            f,
            "paybridge: invalid configuration ({n} problem{}):",
            if n == 1 { "" } else { "s" }
        )?;
        for (env, why) in &self.0 {
            writeln!(f, "  - {env} ({}): {why}", flag_of(env))?;
        }
        write!(
            f,
            "Set them as environment variables or flags; see `paybridge --help`."
        )
    }
}

impl std::error::Error for Problems {}
