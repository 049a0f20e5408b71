//! Every published vector, through every backend, plus a cross-backend property test.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use proptest::prelude::*;

use crate::providers::wechat::aead::{AeadError, ApiV3Key};
use crate::providers::wechat::certificates::{PlatformCertificate, decrypt_certificates};
use crate::providers::wechat::crypto::{PublicKey, RsaBackend};
use crate::providers::wechat::notification::{NotificationEvent, verify_and_decrypt};
use crate::providers::wechat::signer::{
    SignedHeaders, format_authorization, request_message, response_message,
};
use crate::providers::wechat::testkit::{json, read, str_of, test_private_key};
use crate::providers::wechat::verifier::{VerifyError, verify_signed_body};

#[test]
fn the_signing_message_and_authorization_layout_match_the_go_sdk() {
    let v = json("go_authorization_header_format.json");
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 2);
    for c in cases {
        let message = request_message(
            str_of(c, "method"),
            str_of(c, "canonical_url"),
            str_of(c, "timestamp"),
            str_of(c, "nonce_str"),
            str_of(c, "body").as_bytes(),
        );
        assert_eq!(
            String::from_utf8(message.clone()).unwrap(),
            str_of(c, "expected_sign_message")
        );
        let mock_signature = format!("Sign:{}", String::from_utf8(message).unwrap());
        let header = format_authorization(
            "WECHATPAY2-Mock",
            str_of(c, "mchid"),
            str_of(c, "nonce_str"),
            str_of(c, "timestamp"),
            str_of(c, "serial_no"),
            &mock_signature,
        );
        assert_eq!(header, str_of(c, "expected_authorization_with_mock_signer"));
    }
}

#[test]
fn both_backends_reproduce_the_published_signature_and_verify_it_with_key_and_certificate() {
    let v = json("go_sign_source.json");
    let expected = str_of(&v, "expected_signature");
    let message = str_of(&v, "message").as_bytes();
    for backend in RsaBackend::ALL {
        let key = test_private_key(backend);
        assert_eq!(
            BASE64.encode(key.sign(message).unwrap()),
            expected,
            "{backend:?} signs deterministically"
        );
        let sig = BASE64.decode(expected).unwrap();
        let public = PublicKey::from_pem(backend, &read(str_of(&v, "public_key_file"))).unwrap();
        assert!(
            public.verify(message, &sig),
            "{backend:?} verifies with the SPKI key"
        );
        let cert =
            PlatformCertificate::from_pem(backend, read(str_of(&v, "certificate_file")).as_bytes())
                .unwrap();
        assert_eq!(cert.serial_no, str_of(&v, "certificate_serial"));
        assert!(
            cert.public_key.verify(message, &sig),
            "{backend:?} verifies with the certificate"
        );
        assert_eq!(&cert.public_key, key.public_key());
        for negative in v["negative_cases"].as_array().unwrap() {
            let sig = BASE64.decode(str_of(negative, "signature")).unwrap();
            assert!(
                !public.verify(str_of(negative, "message").as_bytes(), &sig),
                "{backend:?} rejects the negative case"
            );
        }
    }
}

#[test]
fn a_pkcs1_pem_of_the_test_key_signs_the_same_as_its_pkcs8_pem() {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    let pkcs8 = read("keys/wechatpay-go.test_private_key.pem");
    let pkcs1 = rsa::RsaPrivateKey::from_pkcs8_pem(&pkcs8)
        .unwrap()
        .to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
        .unwrap();
    assert!(pkcs1.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    let v = json("go_sign_source.json");
    for backend in RsaBackend::ALL {
        let key = crate::providers::wechat::PrivateKey::from_pem(backend, &pkcs1).unwrap();
        assert_eq!(
            BASE64.encode(key.sign(b"source").unwrap()),
            str_of(&v, "expected_signature")
        );
    }
}

#[test]
fn the_aes_gcm_vector_decrypts_and_each_negative_case_fails_for_its_reason() {
    let v = json("go_utils_aes.json");
    let key = ApiV3Key::new(str_of(&v, "apiv3_key").as_bytes()).unwrap();
    let (nonce, aad) = (str_of(&v, "nonce"), str_of(&v, "associated_data"));
    let plain = key.decrypt(nonce, aad, str_of(&v, "ciphertext")).unwrap();
    assert_eq!(plain, str_of(&v, "expected_plaintext").as_bytes());
    let expected = [
        AeadError::NotBase64,
        AeadError::Authentication,
        AeadError::Authentication,
        AeadError::KeyLength(13),
    ];
    let negatives = v["negative_cases"].as_array().unwrap();
    assert_eq!(negatives.len(), expected.len());
    for (case, want) in negatives.iter().zip(expected) {
        let got = ApiV3Key::new(str_of(case, "apiv3_key").as_bytes())
            .and_then(|k| k.decrypt(nonce, aad, str_of(case, "ciphertext")));
        assert_eq!(got, Err(want), "{}", str_of(case, "expect"));
    }
}

#[test]
fn a_nonce_of_the_wrong_length_is_an_error_not_a_panic() {
    let key = ApiV3Key::new(&[7; 32]).unwrap();
    assert_eq!(
        key.decrypt("short", "", "AAAA"),
        Err(AeadError::NonceLength(5))
    );
    assert_eq!(
        key.encrypt("far-too-long-nonce", "", b"x"),
        Err(AeadError::NonceLength(18))
    );
}

fn payscore_headers(v: &serde_json::Value) -> SignedHeaders {
    let h = &v["request"]["headers"];
    SignedHeaders {
        serial: str_of(h, "Wechatpay-Serial").to_owned(),
        timestamp: str_of(h, "Wechatpay-Timestamp").to_owned(),
        nonce: str_of(h, "Wechatpay-Nonce").to_owned(),
        signature: str_of(h, "Wechatpay-Signature").to_owned(),
    }
}

#[test]
fn the_published_notification_verifies_and_decrypts_through_both_backends() {
    let v = json("go_payscore_notification.json");
    let headers = payscore_headers(&v);
    let body = str_of(&v["request"], "body").as_bytes();
    assert_eq!(
        response_message(&headers.timestamp, &headers.nonce, body),
        str_of(&v, "signature_message").as_bytes()
    );
    let now: i64 = headers.timestamp.parse().unwrap();
    let apiv3 = ApiV3Key::new(str_of(&v, "apiv3_key").as_bytes()).unwrap();
    for backend in RsaBackend::ALL {
        let cert = PlatformCertificate::from_pem(
            backend,
            read(str_of(&v, "platform_certificate_file")).as_bytes(),
        )
        .unwrap();
        assert_eq!(cert.serial_no, headers.serial);
        let n = verify_and_decrypt(&cert.public_key, &headers, body, &apiv3, now).unwrap();
        let e = &v["expected"];
        assert_eq!(
            (n.id.as_str(), n.event_type.as_str()),
            (str_of(e, "id"), str_of(e, "event_type"))
        );
        assert_eq!(
            (n.summary.as_str(), n.create_time.as_str()),
            (str_of(e, "summary"), str_of(e, "create_time"))
        );
        let NotificationEvent::Unknown {
            event_type,
            plaintext,
        } = n.event
        else {
            panic!("payscore is not a typed event")
        };
        assert_eq!(event_type, "PAYSCORE.USER_OPEN_SERVICE");
        assert_eq!(plaintext, str_of(e, "resource_plaintext"));

        let mut tampered = body.to_vec();
        tampered[10] ^= 1;
        assert_eq!(
            verify_signed_body(&cert.public_key, &headers, &tampered, now),
            Err(VerifyError::BadSignature)
        );
    }
}

#[test]
fn the_certificate_download_vector_decrypts_to_the_published_certificate() {
    let v = json("go_mock_certificates_response.json");
    let apiv3 = ApiV3Key::new(str_of(&v, "apiv3_key").as_bytes()).unwrap();
    let body = str_of(&v, "response_body").as_bytes();
    let expected = &v["expected"];
    let entry = &serde_json::from_slice::<serde_json::Value>(body).unwrap()["data"][0]["encrypt_certificate"];
    let pem = apiv3
        .decrypt(
            str_of(entry, "nonce"),
            str_of(entry, "associated_data"),
            str_of(entry, "ciphertext"),
        )
        .unwrap();
    assert_eq!(
        String::from_utf8(pem).unwrap(),
        str_of(expected, "decrypted_certificate_pem")
    );
    for backend in RsaBackend::ALL {
        let certs = decrypt_certificates(backend, body, &apiv3).unwrap();
        assert_eq!(certs.len(), 1);
        assert_eq!(certs[0].serial_no, str_of(expected, "serial_no"));
        let from_file = PlatformCertificate::from_pem(
            backend,
            read(str_of(expected, "decrypted_certificate_file")).as_bytes(),
        )
        .unwrap();
        assert_eq!(certs[0].public_key, from_file.public_key);
        assert_eq!(certs[0].not_after, from_file.not_after);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn a_signature_from_any_backend_verifies_with_every_other(message in proptest::collection::vec(any::<u8>(), 0..512), signs in 0..RsaBackend::ALL.len(), verifies in 0..RsaBackend::ALL.len()) {
        let verifier = RsaBackend::ALL[verifies];
        let key = cross_keys(signs);
        let signature = key.sign(&message).unwrap();
        let public = key.public_key().with_backend(verifier).unwrap();
        prop_assert!(public.verify(&message, &signature));
        let mut other = message.clone();
        other.push(0);
        prop_assert!(!public.verify(&other, &signature));
    }
}

/// The test key signing through `RsaBackend::ALL[index]`, built once per backend.
fn cross_keys(index: usize) -> &'static crate::providers::wechat::PrivateKey {
    use std::sync::OnceLock;
    static KEYS: [OnceLock<crate::providers::wechat::PrivateKey>; RsaBackend::ALL.len()] =
        [const { OnceLock::new() }; RsaBackend::ALL.len()];
    KEYS[index].get_or_init(|| test_private_key(RsaBackend::ALL[index]))
}
