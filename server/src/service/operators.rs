//! Dashboard operators: accounts with argon2id passwords, sign-in by password or by a one-time
//! link, and the sessions that follow. Tokens are 256 random bits; only their SHA-256 is stored.

use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, PasswordHash};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::Services;
use crate::domain::{Millis, now_millis};
use crate::secret::Secret;
use crate::store::Store;
pub use crate::store::operators::{CreateError, Operator, SignedIn};

/// How long a dashboard session lasts.
pub const SESSION_MS: Millis = 12 * 60 * 60 * 1000;
/// How long a one-time login link can be used.
pub const LINK_MS: Millis = 24 * 60 * 60 * 1000;
/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Why an operator's details were refused.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("a username is 1 to 64 letters, digits, '.', '_' or '-'")]
    Username,
    #[error("a password has at least {MIN_PASSWORD_CHARS} characters")]
    Password,
    #[error(transparent)]
    Create(#[from] CreateError),
}

/// A fresh session: the cookie's token and the CSRF token of its forms.
pub struct NewSession {
    pub token: Secret<String>,
    pub signed_in: SignedIn,
}

/// A new random token (256 bits, URL-safe base64).
#[must_use]
pub fn new_token() -> String {
    random_token()
}

fn random_token() -> String {
    let mut bytes = [0_u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 of a token, hex: what the database keeps.
#[must_use]
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn valid_username(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn hash_password(password: &str) -> Result<String, Refused> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| Refused::Password)
}

/// Creates an operator.
///
/// # Errors
/// [`Refused`] for a bad name or short password, or a name in use.
pub async fn create(store: &Store, username: &str, password: &str) -> Result<Operator, Refused> {
    if !valid_username(username) {
        return Err(Refused::Username);
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Refused::Password);
    }
    let op = Operator {
        id: format!("op_{}", &token_hash(&random_token())[..32]),
        username: username.to_owned(),
        created_at: now_millis(),
        disabled_at: None,
    };
    store
        .insert_operator(&op, &hash_password(password)?)
        .await?;
    Ok(op)
}

/// A hash of a password nobody has, checked when the name is unknown so that a wrong name
/// takes as long as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&random_token()).unwrap_or_default())
}

/// The enabled operator whose password this is.
///
/// # Errors
/// On a database error.
pub async fn check_password(
    store: &Store,
    username: &str,
    password: &str,
) -> Result<Option<Operator>, sqlx::Error> {
    let found = store.operator_by_name(username).await?;
    let stored = found
        .as_ref()
        .map_or_else(|| decoy_hash().to_owned(), |(_, h)| h.clone());
    let password = password.to_owned();
    // argon2 takes tens of milliseconds of CPU: keep it off the async workers.
    let matches = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored).is_ok_and(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false);
    Ok(found
        .filter(|(op, _)| matches && op.disabled_at.is_none())
        .map(|(op, _)| op))
}

/// Starts a session for `operator`.
///
/// # Errors
/// On a database error.
pub async fn start_session(store: &Store, operator: Operator) -> Result<NewSession, sqlx::Error> {
    let token = random_token();
    let csrf = random_token();
    let now = now_millis();
    store
        .insert_operator_session(
            &token_hash(&token),
            &operator.id,
            &csrf,
            now,
            now + SESSION_MS,
        )
        .await?;
    Ok(NewSession {
        token: Secret::new(token),
        signed_in: SignedIn { operator, csrf },
    })
}

/// The operator a session token belongs to, while it lasts.
///
/// # Errors
/// On a database error.
pub async fn session(svc: &Services, token: &str) -> Result<Option<SignedIn>, sqlx::Error> {
    svc.store()
        .operator_session(&token_hash(token), now_millis())
        .await
}

/// Ends a session.
///
/// # Errors
/// On a database error.
pub async fn end_session(svc: &Services, token: &str) -> Result<(), sqlx::Error> {
    svc.store()
        .delete_operator_session(&token_hash(token), now_millis())
        .await
}

/// A one-time login link token for `operator`, valid for [`LINK_MS`].
///
/// # Errors
/// On a database error.
pub async fn login_link(store: &Store, operator: &Operator) -> Result<Secret<String>, sqlx::Error> {
    let token = random_token();
    store
        .insert_login_link(&token_hash(&token), &operator.id, now_millis() + LINK_MS)
        .await?;
    Ok(Secret::new(token))
}

/// The sandbox's operator: sandbox mode creates `demo` (with a password nobody is shown) and a
/// fresh one-time link at every start, so the dashboard is one click from `make run`.
///
/// # Errors
/// On a database error.
pub async fn sandbox_link(store: &Store) -> Result<Secret<String>, sqlx::Error> {
    const NAME: &str = "demo";
    let op = match store.operator_by_name(NAME).await? {
        Some((op, _)) => op,
        None => match create(store, NAME, &random_token()).await {
            Ok(op) => op,
            // Another instance created it in between.
            Err(Refused::Create(CreateError::Taken(_))) => store
                .operator_by_name(NAME)
                .await?
                .map(|(op, _)| op)
                .ok_or(sqlx::Error::RowNotFound)?,
            Err(Refused::Create(CreateError::Db(e))) => return Err(e),
            Err(Refused::Username | Refused::Password) => return Err(sqlx::Error::RowNotFound),
        },
    };
    login_link(store, &op).await
}

/// Uses a login link: a session for its operator, once.
///
/// # Errors
/// On a database error.
pub async fn use_login_link(
    svc: &Services,
    token: &str,
) -> Result<Option<NewSession>, sqlx::Error> {
    match svc
        .store()
        .use_login_link(&token_hash(token), now_millis())
        .await?
    {
        Some(op) => Ok(Some(start_session(svc.store(), op).await?)),
        None => Ok(None),
    }
}

/// Whether two tokens are equal, compared in constant time.
#[must_use]
pub fn tokens_match(expected: &str, given: &str) -> bool {
    use subtle::ConstantTimeEq;
    expected.len() == given.len() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

/// Whether a form's CSRF token is this session's.
#[must_use]
pub fn csrf_matches(signed_in: &SignedIn, given: &str) -> bool {
    tokens_match(&signed_in.csrf, given)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        let parsed = PasswordHash::new(&h).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse battery", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"wrong horse battery", &parsed)
                .is_err()
        );
    }

    #[test]
    fn usernames_are_short_plain_names() {
        assert!(valid_username("ops.alice-1"));
        assert!(!valid_username(""));
        assert!(!valid_username("alice bob"));
        assert!(!valid_username(&"a".repeat(65)));
    }
}
