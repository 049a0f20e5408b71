//! The shopper API used by the checkout page (DESIGN §4). It shows only what the page needs:
//! no merchant reference, metadata or redirect URLs beyond the session's own.

pub mod events;
pub mod intents;
pub mod links;
pub mod miniprogram;
pub mod oauth;
pub mod pay;
pub mod recover;
pub mod status;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, header};
use paybridge_shared::{BrandingView, CheckoutStatus, CheckoutView, LineItemView, MinorUnits};

use crate::domain::SessionStatus;
use crate::domain::ids::SessionId;
use crate::error::AppError;
use crate::service::sessions;
use crate::state::AppState;

/// A checkout id from the path, or the page's 404.
pub(crate) fn session_id(raw: &str) -> Result<SessionId, AppError> {
    SessionId::parse(raw).ok_or_else(|| crate::service::ServiceError::checkout_not_found().into())
}

/// The environment class the page says it runs in (`?env=`), else the User-Agent's.
fn page_environment(query: Option<&str>, headers: &HeaderMap) -> &'static str {
    let said = query.and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "env")
            .and_then(|(_, v)| crate::domain::environment::class(&v))
    });
    said.unwrap_or_else(|| {
        let ua = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        paybridge_shared::detect(ua, &paybridge_shared::Hints::default()).as_str()
    })
}

/// `GET /api/checkout/{id}`: the page's view model; an open session's view is counted
/// (session, environment class) for the dashboard's funnel.
pub async fn checkout_view(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Json<CheckoutView>, AppError> {
    let id = session_id(&id)?;
    let s = sessions::get_hosted(state.services(), &id)
        .await?
        .ok_or_else(crate::service::ServiceError::checkout_not_found)?;
    if s.status == SessionStatus::Open {
        // Counted for the dashboard's funnel off the answer's path.
        let environment = page_environment(query.as_deref(), &headers);
        let (svc, session) = (state.services().clone(), s.id.to_string());
        tokio::spawn(async move {
            let now = crate::domain::now_millis();
            crate::service::insights::record_page_view(&svc, &session, environment, now).await;
        });
    }
    // Only what this server can take: a method whose provider is not configured is not shown.
    let payment_methods = s
        .payment_methods
        .iter()
        .filter(|m| state.provider(**m).is_some())
        .map(|m| m.as_str().to_owned())
        .collect();
    let branding = state.config().branding.merged(&s.extras.branding);
    let recovery_url = crate::service::sessions::recovery_url(state.services(), &s);
    Ok(Json(CheckoutView {
        id: s.id.to_string(),
        merchant_name: branding
            .display_name
            .clone()
            .unwrap_or_else(|| state.config().merchant_name.clone()),
        description: s.description,
        amount: MinorUnits(s.amount),
        currency: s.currency,
        status: match s.status {
            SessionStatus::Open => CheckoutStatus::Open,
            SessionStatus::Complete => CheckoutStatus::Complete,
            SessionStatus::Expired => CheckoutStatus::Expired,
        },
        sandbox: state.sandbox().is_some(),
        // `auto` leaves the choice to the shopper's browser.
        locale: (s.locale != crate::domain::session::Locale::Auto)
            .then(|| s.locale.as_str().to_owned()),
        payment_methods,
        line_items: s
            .extras
            .line_items
            .iter()
            .map(|l| LineItemView {
                name: l.name.clone(),
                quantity: l.quantity,
                unit_amount: MinorUnits(l.unit_amount),
                amount: MinorUnits(l.amount()),
                image_url: l.image_url.clone(),
            })
            .collect(),
        branding: BrandingView {
            logo_url: branding.logo_url,
            accent_color: branding.accent_color,
            support_phone: branding.support_phone,
            support_url: branding.support_url,
        },
        recovery_url,
        cancel_url: Some(s.cancel_url),
    }))
}

/// Any other path under `/api`: the standard 404 body, never the page.
pub async fn unknown() -> AppError {
    crate::api::json::route_not_found()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    const IPHONE_WECHAT: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 8_4_1 like Mac OS X) AppleWebKit/600.1.4 (KHTML, like Gecko) Mobile/12H321 MicroMessenger/6.3.6 NetType/WIFI Language/zh_CN";

    #[test]
    fn a_page_view_counts_the_class_the_page_says_else_the_user_agents() {
        let mut wechat = HeaderMap::new();
        wechat.insert(header::USER_AGENT, HeaderValue::from_static(IPHONE_WECHAT));
        assert_eq!(page_environment(Some("env=desktop"), &wechat), "desktop");
        assert_eq!(page_environment(Some("x=1&env=wecom"), &wechat), "wecom");
        // Only a known class: anything else is the User-Agent's.
        assert_eq!(page_environment(Some("env=Desktop"), &wechat), "wechat");
        assert_eq!(
            page_environment(Some("env=%3Cscript%3E"), &wechat),
            "wechat"
        );
        assert_eq!(page_environment(None, &wechat), "wechat");
        assert_eq!(page_environment(None, &HeaderMap::new()), "desktop");
    }
}
