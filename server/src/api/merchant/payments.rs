//! `/v1/payments/{id}` and `/v1/refunds`.

use axum::Json;
use axum::extract::{Path, State};

use crate::api::json::Query;
use serde::Deserialize;

use crate::api::json::Body;
use crate::domain::Invalid;
use crate::domain::ids::{PaymentId, SessionId};
use crate::error::AppError;
use crate::error::ErrorBody;
use crate::service::Services;
use crate::service::objects::{List, PaymentObject, RefundObject};
use crate::store::refunds::RefundError;

/// `GET /v1/payments/{id}`
#[utoipa::path(get, path = "/v1/payments/{id}", tag = "payments", params(("id" = String, Path)),
    responses((status = 200, body = PaymentObject), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(svc): State<Services>,
    Path(id): Path<String>,
) -> Result<Json<PaymentObject>, AppError> {
    let missing = || {
        AppError::not_found(
            paybridge_shared::codes::RESOURCE_MISSING,
            format!("No such payment: {id:?}."),
        )
    };
    let pid = PaymentId::parse(&id).ok_or_else(missing)?;
    let p = svc.store().get_payment(&pid).await?.ok_or_else(missing)?;
    Ok(Json(PaymentObject::new(&p, svc.livemode())))
}

/// A refund request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRefund {
    /// The succeeded payment (`pay_…`); or give `checkout_session` instead.
    pub payment: Option<String>,
    /// The checkout session (`cs_…`) whose succeeded payment to refund, instead of `payment`.
    pub checkout_session: Option<String>,
    /// The payment intent (`pi_…`) whose succeeded payment to refund, instead of `payment`.
    pub payment_intent: Option<String>,
    /// Fen; the whole unrefunded remainder of the payment when absent.
    #[serde(default, deserialize_with = "crate::domain::whole::whole_number_opt")]
    pub amount: Option<i64>,
    /// Shown to the shopper by WeChat (≤ 80 characters).
    pub reason: Option<String>,
}

/// The schema says what the handler enforces: exactly one of `payment` and `checkout_session`.
impl utoipa::PartialSchema for CreateRefund {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, OneOfBuilder, Type};
        let id = |prefix: &str, what: &str| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(format!("^{prefix}_[0-9a-f]{{32}}$")))
                .description(Some(what))
        };
        let by = |field: &str, schema: ObjectBuilder| {
            ObjectBuilder::new()
                .property(field, schema)
                .required(field)
                .property(
                    "amount",
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                            utoipa::openapi::KnownFormat::Int64,
                        )))
                        .minimum(Some(1))
                        .description(Some("Fen; the whole unrefunded remainder when absent")),
                )
                .property(
                    "reason",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .max_length(Some(80))
                        .description(Some("Shown to the shopper by WeChat")),
                )
                .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        };
        OneOfBuilder::new()
            .description(Some(
                "Refund a succeeded payment named by `payment`, or by its `checkout_session` or `payment_intent` (exactly one).",
            ))
            .item(by("payment", id("pay", "The succeeded payment")))
            .item(by(
                "checkout_session",
                id("cs", "The checkout session whose succeeded payment to refund"),
            ))
            .item(by(
                "payment_intent",
                id("pi", "The payment intent whose succeeded payment to refund"),
            ))
            .into()
    }
}

impl utoipa::ToSchema for CreateRefund {}

/// `POST /v1/refunds`: partial and multiple refunds, never more in total than was paid.
#[utoipa::path(post, path = "/v1/refunds", tag = "refunds", request_body = CreateRefund,
    responses((status = 200, body = RefundObject), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_refund(
    State(svc): State<Services>,
    Body(req): Body<CreateRefund>,
) -> Result<Json<RefundObject>, AppError> {
    let pid = refunded_payment(&svc, &req).await?;
    let payment = svc.store().get_payment(&pid).await?.ok_or_else(|| {
        AppError::not_found(
            paybridge_shared::codes::RESOURCE_MISSING,
            format!("No such payment: {pid}."),
        )
    })?;
    if let Some(reason) = &req.reason
        && reason.chars().count() > 80
    {
        return Err(Invalid::value("reason", "must be at most 80 characters.").into());
    }
    if req.amount.is_some_and(|a| a < 1) {
        return Err(Invalid::value("amount", "must be at least 1.").into());
    }
    match crate::service::refunds::create(&svc, &payment.id, req.amount, req.reason.as_deref())
        .await
    {
        Ok(r) => Ok(Json(RefundObject::new(&r, svc.livemode()))),
        Err(RefundError::NotPaid) => Err(AppError::conflict(
            paybridge_shared::codes::PAYMENT_NOT_SUCCEEDED,
            "Only a succeeded payment can be refunded.",
        )),
        Err(RefundError::TooMuch { would, paid }) => Err(Invalid::value(
            "amount",
            format!("refunds would total {would}, more than the {paid} paid."),
        )
        .into()),
        Err(RefundError::Db(e)) => Err(e.into()),
    }
}

/// The payment a refund request names: `payment` itself, or the succeeded payment of
/// `checkout_session` or `payment_intent` — exactly one of the three.
async fn refunded_payment(svc: &Services, req: &CreateRefund) -> Result<PaymentId, AppError> {
    let given = [
        req.payment.is_some(),
        req.checkout_session.is_some(),
        req.payment_intent.is_some(),
    ];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(Invalid::value(
            "checkout_session",
            "give one of payment, checkout_session and payment_intent, not several.",
        )
        .into());
    }
    let (id, param, raw) = match (&req.payment, &req.checkout_session, &req.payment_intent) {
        (Some(payment), _, _) => {
            return PaymentId::parse(payment)
                .ok_or_else(|| Invalid::value("payment", "is not a payment id.").into());
        }
        (None, Some(session), _) => (
            SessionId::parse(session).ok_or_else(|| {
                Invalid::value("checkout_session", "is not a checkout session id.")
            })?,
            "checkout session",
            session,
        ),
        (None, None, Some(intent)) => (
            crate::domain::ids::IntentId::parse(intent)
                .ok_or_else(|| Invalid::value("payment_intent", "is not a payment intent id."))?
                .same_as(),
            "payment intent",
            intent,
        ),
        (None, None, None) => {
            return Err(Invalid::value(
                "payment",
                "is required (or checkout_session, or payment_intent).",
            )
            .into());
        }
    };
    let summaries = svc.store().payment_summaries(&[&id]).await?;
    match summaries.get(id.as_str()) {
        Some(s) if s.status == "succeeded" => PaymentId::parse(&s.payment)
            .ok_or_else(|| AppError::internal("a stored payment id does not parse")),
        _ if svc.store().get_session(&id).await?.is_none() => Err(AppError::not_found(
            paybridge_shared::codes::RESOURCE_MISSING,
            format!("No such {param}: {raw}."),
        )),
        _ => Err(AppError::conflict(
            paybridge_shared::codes::PAYMENT_NOT_SUCCEEDED,
            format!("The {param} has no succeeded payment to refund."),
        )),
    }
}

/// `GET /v1/refunds/{id}`
#[utoipa::path(get, path = "/v1/refunds/{id}", tag = "refunds", params(("id" = String, Path)),
    responses((status = 200, body = RefundObject), (status = 404, body = ErrorBody)))]
pub async fn get_refund(
    State(svc): State<Services>,
    Path(id): Path<String>,
) -> Result<Json<RefundObject>, AppError> {
    let r = svc.store().get_refund(&id).await?.ok_or_else(|| {
        AppError::not_found(
            paybridge_shared::codes::RESOURCE_MISSING,
            format!("No such refund: {id:?}."),
        )
    })?;
    Ok(Json(RefundObject::new(&r, svc.livemode())))
}

/// Query of `GET /v1/payments`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PaymentListQuery {
    /// Only this checkout session's attempts (`cs_…`).
    #[param(pattern = r"^cs_[0-9a-f]{32}$")]
    pub checkout_session: Option<String>,
    /// 1–100, default 10.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The last id of the previous page.
    #[param(pattern = r"^pay_[0-9a-f]{32}$")]
    pub starting_after: Option<String>,
}

/// `GET /v1/payments`, newest first.
#[utoipa::path(get, path = "/v1/payments", tag = "payments", params(PaymentListQuery),
    responses((status = 200, body = List<PaymentObject>), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(svc): State<Services>,
    Query(q): Query<PaymentListQuery>,
) -> Result<Json<List<PaymentObject>>, AppError> {
    let limit = super::sessions::page_size(q.limit)?;
    let session = SessionId::parse_param(
        q.checkout_session.as_deref(),
        "checkout_session",
        "a checkout session id",
    )?;
    let after = PaymentId::parse_param(
        q.starting_after.as_deref(),
        "starting_after",
        "a payment id",
    )?;
    let rows = svc
        .store()
        .list_payments(session.as_ref(), after.as_ref(), limit + 1)
        .await?;
    let objects = rows
        .iter()
        .map(|p| PaymentObject::new(p, svc.livemode()))
        .collect();
    Ok(Json(List::page(
        objects,
        usize::try_from(limit).unwrap_or(10),
    )))
}

/// Query of `GET /v1/refunds`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RefundListQuery {
    /// Only this payment's refunds (`pay_…`).
    #[param(pattern = r"^pay_[0-9a-f]{32}$")]
    pub payment: Option<String>,
    /// 1–100, default 10.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The last id of the previous page.
    #[param(pattern = r"^re_[0-9a-f]{32}$")]
    pub starting_after: Option<String>,
}

/// `GET /v1/refunds`, newest first.
#[utoipa::path(get, path = "/v1/refunds", tag = "refunds", params(RefundListQuery),
    responses((status = 200, body = List<RefundObject>), (status = 422, body = ErrorBody)))]
pub async fn list_refunds(
    State(svc): State<Services>,
    Query(q): Query<RefundListQuery>,
) -> Result<Json<List<RefundObject>>, AppError> {
    let limit = super::sessions::page_size(q.limit)?;
    let payment = PaymentId::parse_param(q.payment.as_deref(), "payment", "a payment id")?;
    crate::domain::ids::RefundId::parse_param(
        q.starting_after.as_deref(),
        "starting_after",
        "a refund id",
    )?;
    let rows = svc
        .store()
        .list_refunds(payment.as_ref(), q.starting_after.as_deref(), limit + 1)
        .await?;
    let objects = rows
        .iter()
        .map(|r| RefundObject::new(r, svc.livemode()))
        .collect();
    Ok(Json(List::page(
        objects,
        usize::try_from(limit).unwrap_or(10),
    )))
}
