//! WeChat's OAuth return: the state must be ours, fresh, unused, bound to the session and back
//! in the browser that started the sign-in; the code becomes the shopper's openid, sealed for
//! that browser (the HTTP layer keeps it in a cookie for the session's API only).

use super::{ServiceError, Services, oauth_state};
use crate::domain::ids::SessionId;
use crate::domain::now_millis;

/// How a sign-in ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    /// A state we did not issue: it names no checkout to return to.
    Forged,
    /// Back to the checkout page, which explains `outcome` (`expired`, `used`, `denied`,
    /// `failed`) and offers to try again.
    Back {
        session: SessionId,
        outcome: &'static str,
    },
    /// Signed in: `sealed` holds the openid until the session can no longer be paid.
    SignedIn {
        session: SessionId,
        sealed: String,
        max_age_secs: u64,
    },
}

/// Finishes a sign-in from WeChat's return (`state`, and `code` unless the shopper refused)
/// in the browser whose id is `browser`.
///
/// # Errors
/// A database error.
pub async fn finish(
    svc: &Services,
    state: &str,
    browser: Option<&str>,
    code: Option<&str>,
) -> Result<SignIn, ServiceError> {
    let secret = svc.secret_key();
    let now = now_millis();
    let back = |session, outcome| Ok(SignIn::Back { session, outcome });
    let session = match oauth_state::check(secret, state, browser, now) {
        oauth_state::Checked::Valid(s) => SessionId::parse(&s),
        // Another browser (a forwarded sign-in link) is told the link expired: it may start
        // its own sign-in, never finish this one.
        oauth_state::Checked::Expired(s) | oauth_state::Checked::OtherBrowser(s) => {
            return Ok(
                SessionId::parse(&s).map_or(SignIn::Forged, |session| SignIn::Back {
                    session,
                    outcome: "expired",
                }),
            );
        }
        oauth_state::Checked::Forged => None,
    };
    let Some(session) = session else {
        return Ok(SignIn::Forged);
    };
    if !svc
        .store()
        .use_token_once(&oauth_state::fingerprint(state), now)
        .await?
    {
        return back(session, "used");
    }
    let Some(code) = code.filter(|c| !c.is_empty() && c.len() <= 128) else {
        // The shopper refused; the page offers a QR code instead.
        return back(session, "denied");
    };
    let wechat = svc
        .wechat()
        .ok_or_else(|| ServiceError::internal("WeChat clients missing"))?;
    let token = match wechat.oauth.exchange_code(code).await {
        Ok(token) => token,
        Err(e) => {
            tracing::warn!(error = %e, "OAuth code exchange failed");
            return back(session, "failed");
        }
    };
    // As long as the session can be paid (at most a day), and no longer.
    let expires = svc
        .store()
        .get_session(&session)
        .await?
        .map_or(now, |s| s.expires_at);
    Ok(SignIn::SignedIn {
        sealed: oauth_state::seal_openid(secret, session.as_str(), &token.openid, expires),
        max_age_secs: u64::try_from((expires - now) / 1000).unwrap_or(0),
        session,
    })
}

/// The openid a browser's sealed value holds for `session`, while it lasts.
#[must_use]
pub fn openid(svc: &Services, session: &SessionId, sealed: &str) -> Option<String> {
    oauth_state::open_openid(svc.secret_key(), session.as_str(), sealed, now_millis())
}
