//! `POST /api/miniprogram/login {cs, code}`: the mini program's pay page sends its `wx.login`
//! code and gets `wx.requestPayment`'s parameters.

use axum::Json;
use axum::extract::State;
use paybridge_shared::NextAction;
use serde::Deserialize;

use super::session_id;
use crate::api::client_ip::ClientIp;
use crate::api::json::Body;
use crate::error::AppError;
use crate::service::Services;
use crate::service::pay;

/// Body of `POST /api/miniprogram/login`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MiniProgramLogin {
    cs: String,
    code: String,
}

/// `POST /api/miniprogram/login {cs, code}` → `wx.requestPayment` parameters.
pub async fn login(
    State(svc): State<Services>,
    ClientIp(ip): ClientIp,
    Body(req): Body<MiniProgramLogin>,
) -> Result<Json<NextAction>, AppError> {
    let id = session_id(&req.cs)?;
    Ok(Json(pay::mini_program(&svc, &id, &req.code, ip).await?))
}
