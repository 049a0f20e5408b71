//! WeChat OAuth for official accounts (snsapi_base: code → openid) and mini program
//! `jscode2session`. Errors arrive as HTTP 200 with `errcode`/`errmsg` and become typed errors.

use std::time::Duration;

use serde::Deserialize;
use url::Url;

use super::error::{OAuthErrorCode, WechatError};
use crate::secret::Secret;

/// One WeChat app (official account or mini program) and the endpoints to reach.
#[derive(Debug, Clone)]
pub struct OAuthConfig {
    pub appid: String,
    pub secret: Secret<String>,
    /// `WECHAT_OAUTH_BASE`: where shoppers are sent to authorize (open.weixin.qq.com or the sandbox).
    pub oauth_base: Url,
    /// `WECHAT_API_BASE`: where codes are exchanged (api.weixin.qq.com or the sandbox).
    pub api_base: Url,
    pub timeout: Duration,
}

/// The result of exchanging an official-account code.
#[derive(Debug, Clone, Deserialize)]
pub struct OAuthAccessToken {
    pub openid: String,
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub unionid: Option<String>,
    /// Not needed for snsapi_base, kept secret anyway.
    #[serde(default = "empty_secret", deserialize_with = "secret_string")]
    pub access_token: Secret<String>,
    #[serde(default)]
    pub expires_in: i64,
}

/// The result of `jscode2session`.
#[derive(Debug, Clone, Deserialize)]
pub struct MiniProgramSession {
    pub openid: String,
    #[serde(default)]
    pub unionid: Option<String>,
    #[serde(default = "empty_secret", deserialize_with = "secret_string")]
    pub session_key: Secret<String>,
}

fn empty_secret() -> Secret<String> {
    Secret::new(String::new())
}

fn secret_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Secret<String>, D::Error> {
    String::deserialize(d).map(Secret::new)
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

/// Client for WeChat OAuth and mini program login.
#[derive(Debug, Clone)]
pub struct WechatOAuthClient {
    http: reqwest::Client,
    config: OAuthConfig,
}

impl WechatOAuthClient {
    /// Builds a client with its own connection pool.
    pub fn new(config: OAuthConfig) -> Result<Self, WechatError> {
        let builder = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout);
        let http = crate::tls_roots::with_extra_roots(builder)
            .map_err(|e| WechatError::InvalidRequest(format!("HTTP client: {e}")))?
            .build()
            .map_err(|e| WechatError::InvalidRequest(format!("HTTP client: {e}")))?;
        Ok(Self { http, config })
    }

    /// The appid this client speaks for.
    #[must_use]
    pub fn appid(&self) -> &str {
        &self.config.appid
    }

    /// `…/connect/oauth2/authorize?appid&redirect_uri&response_type=code&scope=snsapi_base&state#wechat_redirect`,
    /// parameters in the order WeChat documents (it is strict about it).
    #[must_use]
    pub fn authorize_url(&self, redirect_uri: &str, state: &str) -> String {
        let mut url = join(&self.config.oauth_base, "/connect/oauth2/authorize");
        url.query_pairs_mut()
            .append_pair("appid", &self.config.appid)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("response_type", "code")
            .append_pair("scope", "snsapi_base")
            .append_pair("state", state)
            // WeChat's documented guard against its client following the redirect twice (the
            // second return would carry a used code).
            .append_pair("connect_redirect", "1");
        url.set_fragment(Some("wechat_redirect"));
        url.into()
    }

    /// `GET /sns/oauth2/access_token`: a code (single use, ~5 min) → openid. Never retried.
    pub async fn exchange_code(&self, code: &str) -> Result<OAuthAccessToken, WechatError> {
        self.get_json("/sns/oauth2/access_token", &[("code", code)])
            .await
    }

    /// `GET /sns/jscode2session`: a mini program `wx.login` code → openid. Never retried.
    pub async fn jscode2session(&self, js_code: &str) -> Result<MiniProgramSession, WechatError> {
        self.get_json("/sns/jscode2session", &[("js_code", js_code)])
            .await
    }

    async fn get_json<T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        params: &[(&str, &str)],
    ) -> Result<T, WechatError> {
        let mut url = join(&self.config.api_base, path);
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("appid", &self.config.appid)
                .append_pair("secret", self.config.secret.expose());
            for (k, v) in params {
                q.append_pair(k, v);
            }
            q.append_pair("grant_type", "authorization_code");
        }
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| WechatError::from_reqwest(&e))?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| WechatError::from_reqwest(&e))?;
        if !(200..300).contains(&status) {
            return Err(WechatError::InvalidResponse {
                status,
                detail: format!("{path}: HTTP {status}"),
            });
        }
        parse_body(status, path, &body)
    }
}

fn parse_body<T: for<'de> Deserialize<'de>>(
    status: u16,
    path: &str,
    body: &[u8],
) -> Result<T, WechatError> {
    if let Ok(err) = serde_json::from_slice::<ErrorBody>(body)
        && err.errcode != 0
    {
        return Err(WechatError::OAuth {
            code: OAuthErrorCode::from_errcode(err.errcode),
            errcode: err.errcode,
            errmsg: err.errmsg,
        });
    }
    serde_json::from_slice(body).map_err(|e| WechatError::InvalidResponse {
        status,
        detail: format!("{path}: {e}"),
    })
}

/// `base` plus an absolute `path`, keeping any path prefix of `base` (the sandbox mounts under one).
fn join(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let prefix = base.path().trim_end_matches('/');
    url.set_path(&format!("{prefix}{path}"));
    url.set_query(None);
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(oauth_base: &str) -> WechatOAuthClient {
        WechatOAuthClient::new(OAuthConfig {
            appid: "wx0123456789abcdef".into(),
            secret: Secret::new("app-secret".into()),
            oauth_base: Url::parse(oauth_base).unwrap(),
            api_base: Url::parse("https://api.example.test/").unwrap(),
            timeout: Duration::from_secs(5),
        })
        .unwrap()
    }

    #[test]
    fn the_authorize_url_carries_every_parameter_in_order_and_ends_with_wechat_redirect() {
        let url = client("https://open.example.test").authorize_url(
            "https://pay.example.com/oauth/wechat/callback?x=1",
            "st&ate",
        );
        assert_eq!(
            url,
            "https://open.example.test/connect/oauth2/authorize?appid=wx0123456789abcdef\
             &redirect_uri=https%3A%2F%2Fpay.example.com%2Foauth%2Fwechat%2Fcallback%3Fx%3D1\
             &response_type=code&scope=snsapi_base&state=st%26ate&connect_redirect=1#wechat_redirect"
        );
    }

    #[test]
    fn the_authorize_url_keeps_a_sandbox_path_prefix() {
        let url = client("http://127.0.0.1:8080/sandbox/wechat/open/")
            .authorize_url("http://127.0.0.1:8080/cb", "s");
        assert!(
            url.starts_with(
                "http://127.0.0.1:8080/sandbox/wechat/open/connect/oauth2/authorize?appid="
            ),
            "{url}"
        );
    }

    #[test]
    fn an_errcode_body_with_http_200_becomes_a_typed_error() {
        let body = br#"{"errcode":40163,"errmsg":"code been used, rid: 1"}"#;
        let err =
            parse_body::<OAuthAccessToken>(200, "/sns/oauth2/access_token", body).unwrap_err();
        assert!(
            matches!(
                err,
                WechatError::OAuth {
                    code: OAuthErrorCode::CodeUsed,
                    errcode: 40163,
                    ..
                }
            ),
            "{err:?}"
        );
        let body = br#"{"errcode":-1,"errmsg":"system error"}"#;
        let err = parse_body::<MiniProgramSession>(200, "/sns/jscode2session", body).unwrap_err();
        assert!(err.retryable());
    }

    #[test]
    fn a_successful_exchange_yields_the_openid_and_hides_tokens() {
        let body = br#"{"access_token":"ACCESS","expires_in":7200,"refresh_token":"R","openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o","scope":"snsapi_base"}"#;
        let token: OAuthAccessToken = parse_body(200, "/sns/oauth2/access_token", body).unwrap();
        assert_eq!(token.openid, "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o");
        assert_eq!(token.access_token.expose(), "ACCESS");
        assert!(!format!("{token:?}").contains("ACCESS"));
        let body = br#"{"openid":"o1","session_key":"SESSIONKEY","unionid":"u1","errcode":0,"errmsg":"ok"}"#;
        let session: MiniProgramSession = parse_body(200, "/sns/jscode2session", body).unwrap();
        assert_eq!(
            (session.openid.as_str(), session.unionid.as_deref()),
            ("o1", Some("u1"))
        );
        assert!(!format!("{session:?}").contains("SESSIONKEY"));
    }
}
