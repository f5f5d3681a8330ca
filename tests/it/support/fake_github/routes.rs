//! The fake's HTTP side: authentication, faults, recording, and dispatch to the handlers.

use super::handlers;
use super::{Call, FakeGithub, Fault, TEST_APP_ID, TEST_PUBLIC_KEY_PEM};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

/// Every route goes through one handler, so each call is recorded the same way.
pub fn router(fake: FakeGithub) -> Router {
    Router::new().fallback(handle).with_state(fake)
}

/// A parsed request, as the handlers see it.
pub struct Request {
    pub method: Method,
    /// Decoded path segments (`["repos", "o", "r", "pulls", "1"]`).
    pub segments: Vec<String>,
    pub query: String,
    pub body: Value,
}

impl Request {
    /// A query parameter, percent-decoded.
    pub fn param(&self, name: &str) -> Option<String> {
        self.query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| decode(value))
    }

    /// A string field of the JSON body ("" when absent).
    pub fn field(&self, name: &str) -> String {
        self.body[name].as_str().unwrap_or_default().to_owned()
    }
}

/// A GitHub-shaped error answer.
pub fn error(status: u16, message: &str) -> Response {
    json_reply(
        status,
        json!({ "message": message, "documentation_url": "https://docs.github.com/rest" }),
    )
}

/// A JSON answer.
pub fn json_reply(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(body)).into_response()
}

async fn handle(
    State(fake): State<FakeGithub>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let query = uri.query().unwrap_or_default().to_owned();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let segments: Vec<String> = path.trim_matches('/').split('/').map(decode).collect();
    // Err holds the 401 message.
    // App-level routes take the JWT: `/app/...` and a repository's installation lookup.
    let app_level = path.starts_with("/app/")
        || path == "/app"
        || (path.starts_with("/repos/") && path.ends_with("/installation"));
    let auth = if app_level {
        check_jwt(&headers).map(|()| app_installation(&segments))
    } else {
        check_token(&fake, &headers).map(Some)
    };
    let installation = auth.as_ref().ok().copied().flatten();

    let fault = fake.take_fault(method.as_str(), &path);
    let response = match fault {
        Some(Fault::Delay(wait)) => {
            tokio::time::sleep(wait).await;
            None
        }
        Some(fault) => Some(fault_reply(&fault)),
        None => None,
    };
    let response = match (response, auth) {
        (Some(response), _) => response,
        (None, Err(message)) => error(401, &message),
        (None, Ok(_)) => {
            let request = Request {
                method: method.clone(),
                segments,
                query: query.clone(),
                body: body.clone(),
            };
            handlers::dispatch(&fake, request)
        }
    };
    fake.record(Call {
        method: method.to_string(),
        path,
        query,
        body,
        installation,
        accept: headers
            .get("accept")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        status: response.status().as_u16(),
    });
    response
}

fn fault_reply(fault: &Fault) -> Response {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    match fault {
        Fault::Status(status) => error(*status, "Injected failure"),
        Fault::SecondaryRateLimit { retry_after_secs } => {
            let mut response = error(
                403,
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            );
            insert(&mut response, "retry-after", retry_after_secs.to_string());
            response
        }
        Fault::RateLimited { reset_in_secs } => {
            let mut response = error(403, "API rate limit exceeded for installation.");
            insert(&mut response, "x-ratelimit-limit", "5000".into());
            insert(&mut response, "x-ratelimit-remaining", "0".into());
            insert(
                &mut response,
                "x-ratelimit-reset",
                (now + reset_in_secs).to_string(),
            );
            response
        }
        Fault::Delay(_) => error(500, "unreachable: delays answer normally"),
    }
}

fn insert(response: &mut Response, name: &'static str, value: String) {
    if let Ok(value) = HeaderValue::from_str(&value) {
        response.headers_mut().insert(name, value);
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get("authorization")?.to_str().ok()?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("token "))
        .map(str::trim)
}

/// Routes outside `/app` need a token the fake minted; answers which installation it is for.
fn check_token(fake: &FakeGithub, headers: &HeaderMap) -> Result<u64, String> {
    let token = bearer(headers).ok_or("Requires authentication")?;
    fake.state()
        .tokens
        .get(token)
        .copied()
        .ok_or_else(|| "Bad credentials".to_owned())
}

#[derive(Deserialize)]
struct Claims {
    iss: Value,
    iat: u64,
    exp: u64,
}

/// `/app` routes need a JWT signed with the App's key, `iss` = the app id, lasting at most
/// ten minutes.
fn check_jwt(headers: &HeaderMap) -> Result<(), String> {
    let refuse = |why: &str| format!("A JSON web token could not be decoded ({why})");
    let jwt = bearer(headers).ok_or_else(|| refuse("no bearer token"))?;
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(TEST_PUBLIC_KEY_PEM.as_bytes())
        .map_err(|_| refuse("test public key unreadable"))?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_required_spec_claims(&["exp"]);
    let claims = jsonwebtoken::decode::<Claims>(jwt, &key, &validation)
        .map_err(|e| refuse(&e.to_string()))?
        .claims;
    let iss_matches = claims.iss.as_u64() == Some(TEST_APP_ID)
        || claims.iss.as_str() == Some(TEST_APP_ID.to_string().as_str());
    if !iss_matches {
        return Err(refuse("wrong issuer"));
    }
    if claims.exp.saturating_sub(claims.iat) > 600 {
        return Err(refuse("expires more than 10 minutes after it was issued"));
    }
    Ok(())
}

/// The `{id}` of `/app/installations/{id}/…`.
fn app_installation(segments: &[String]) -> Option<u64> {
    match segments {
        [app, installations, id, ..] if app == "app" && installations == "installations" => {
            id.parse().ok()
        }
        _ => None,
    }
}

/// Percent-decodes one path segment or query value.
pub fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
