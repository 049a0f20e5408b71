//! The OpenAPI schemas of creating and confirming an intent, saying exactly what the server
//! takes: which options go with which terminal type (an openid with `official_account` and
//! `mini_program` only, a `client_ip` required for `WAP`), and that an intent confirmed at
//! creation takes the confirmed method (no `payment_method_types`). Built from the session's
//! own schema so both share every field's constraints.

use utoipa::PartialSchema;
use utoipa::openapi::schema::{
    AdditionalProperties, AnyOfBuilder, Object, ObjectBuilder, OneOfBuilder, Schema, SchemaType,
    Type,
};
use utoipa::openapi::{KnownFormat, RefOr, SchemaFormat};

use super::CreateIntent;
use super::confirm::Confirm;
use crate::service::sessions::CreateSession;

/// A group of terminal types that take the same options: the types, whether `client_ip` is
/// required, whether `openid` is.
type Variant = (&'static [&'static str], bool, bool);

/// Each method and its variants.
const METHODS: [(&str, &[Variant]); 2] = [
    (
        "wechat_pay",
        &[
            (&["WEB", "QR"], false, false),
            (&["WAP"], true, false),
            (&["official_account", "mini_program"], false, true),
        ],
    ),
    (
        "alipay",
        &[
            (&["WEB", "QR", "APP"], false, false),
            (&["WAP"], true, false),
        ],
    ),
];

fn null() -> Object {
    ObjectBuilder::new().schema_type(Type::Null).build()
}

fn ip(nullable: bool) -> Schema {
    let format = |f| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(f)))
            .build()
    };
    let mut any = AnyOfBuilder::new()
        .item(format(KnownFormat::Ipv4))
        .item(format(KnownFormat::Ipv6));
    if nullable {
        any = any.item(null());
    }
    any.description(Some("The shopper's IP address")).into()
}

fn strings(values: &[&str]) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .build()
}

/// `payment_method_data` and `payment_method_options` for `method`, one variant per group of
/// terminal types.
fn confirm_fields(method: &str, variants: &[Variant]) -> (Object, Object) {
    let data = ObjectBuilder::new()
        .property("type", strings(&[method]))
        .required("type")
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .build();
    let mut one_of = OneOfBuilder::new();
    for (terminals, ip_required, openid_required) in variants {
        let mut options = ObjectBuilder::new()
            .property("terminal_type", strings(terminals))
            .required("terminal_type")
            .property("client_ip", ip(!ip_required))
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        if *ip_required {
            options = options.required("client_ip");
        }
        options = if *openid_required {
            options
                .property(
                    "openid",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .pattern(Some("^[A-Za-z0-9_-]{1,128}$")),
                )
                .required("openid")
        } else {
            options.property("openid", null())
        };
        one_of = one_of.item(options.build());
    }
    let options = ObjectBuilder::new()
        .property(method, Schema::OneOf(one_of.build()))
        .required(method)
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .build();
    (data, options)
}

/// The session's create schema as an intent's: `return_url` for the redirect URLs,
/// `payment_method_types` for `payment_methods`, no page locale.
fn base() -> Object {
    let RefOr::T(Schema::Object(mut object)) = CreateSession::schema() else {
        unreachable!("CreateSession derives an object schema")
    };
    for gone in [
        "success_url",
        "cancel_url",
        "locale",
        "branding",
        "after_expiration",
    ] {
        object.properties.remove(gone);
        object.required.retain(|r| r != gone);
    }
    if let Some(methods) = object.properties.remove("payment_methods") {
        object
            .properties
            .insert("payment_method_types".into(), methods);
    }
    let mut url = crate::domain::redirect::url_schema();
    url.schema_type = SchemaType::from_iter([Type::String, Type::Null]);
    url.description = Some(
        "Where WeChat's H5 and Alipay's cashiers send the shopper back: https (http only for localhost)".into(),
    );
    object.properties.insert("return_url".into(), url.into());
    object.description = None;
    object
}

impl PartialSchema for CreateIntent {
    fn schema() -> RefOr<Schema> {
        let mut unconfirmed = base();
        unconfirmed.properties.insert(
            "confirm".into(),
            ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::Boolean, Type::Null]))
                .enum_values(Some([
                    serde_json::Value::Bool(false),
                    serde_json::Value::Null,
                ]))
                .into(),
        );
        for field in ["payment_method_data", "payment_method_options"] {
            unconfirmed.properties.insert(field.into(), null().into());
        }
        let mut one_of = OneOfBuilder::new()
            .description(Some(
                "A payment intent; with `confirm: true` also confirmed, for the confirmed method \
                 (then without `payment_method_types`).",
            ))
            .item(unconfirmed);
        for (method, variants) in METHODS {
            let mut confirmed = base();
            confirmed
                .properties
                .insert("payment_method_types".into(), null().into());
            confirmed.properties.insert(
                "confirm".into(),
                ObjectBuilder::new()
                    .schema_type(Type::Boolean)
                    .enum_values(Some([true]))
                    .into(),
            );
            let (data, options) = confirm_fields(method, variants);
            confirmed
                .properties
                .insert("payment_method_data".into(), data.into());
            confirmed
                .properties
                .insert("payment_method_options".into(), options.into());
            confirmed.required.extend([
                "confirm".to_owned(),
                "payment_method_data".to_owned(),
                "payment_method_options".to_owned(),
            ]);
            one_of = one_of.item(confirmed);
        }
        one_of.into()
    }
}

impl utoipa::ToSchema for CreateIntent {}

impl PartialSchema for Confirm {
    fn schema() -> RefOr<Schema> {
        let mut one_of = OneOfBuilder::new().description(Some(
            "The method and how the shopper pays with it (see the README's Direct API).",
        ));
        for (method, variants) in METHODS {
            let (data, options) = confirm_fields(method, variants);
            one_of = one_of.item(
                ObjectBuilder::new()
                    .property("payment_method_data", data)
                    .required("payment_method_data")
                    .property("payment_method_options", options)
                    .required("payment_method_options")
                    .additional_properties(Some(AdditionalProperties::FreeForm(false))),
            );
        }
        one_of.into()
    }
}

impl utoipa::ToSchema for Confirm {}
