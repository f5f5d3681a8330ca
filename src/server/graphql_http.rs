//! GraphQL over HTTP: `POST /graphql` (JSON body, single or batched) and `GET /graphql`
//! (queries in the URL; a mutation over GET is refused with 405; no query and a browser
//! asking for HTML gets GraphiQL).
//!
//! Both `application/json` and `application/graphql-response+json` responses are offered;
//! with the latter, a request that fails before execution (parse or validation error) is
//! answered 400, as the GraphQL-over-HTTP draft asks.

use super::{AppState, playground};
use crate::graphql::auth::Caller;
use crate::graphql::documents::Documents;
use crate::graphql::for_caller;
use crate::graphql::introspection::introspection_only_in;
use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{BatchRequest, BatchResponse, Request, Variables};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::collections::HashMap;

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
const APPLICATION_JSON: &str = "application/json";

/// `GET /graphql`.
pub async fn get_graphql(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let Some(query) = params.get("query") else {
        if accepts(&headers, "text/html") {
            return playground::page();
        }
        return error_response(
            StatusCode::BAD_REQUEST,
            &headers,
            "missing the `query` URL parameter (or open this URL in a browser for GraphiQL)",
        );
    };
    let operation_name = params.get("operationName").cloned();
    if is_mutation(&state.documents, query, operation_name.as_deref()) {
        let mut response = error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            &headers,
            "mutations must be sent with POST",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let mut request = Request::new(query.clone());
    if let Some(name) = operation_name {
        request = request.operation_name(name);
    }
    if let Some(text) = params.get("variables").filter(|v| !v.is_empty()) {
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(value) => request = request.variables(Variables::from_json(value)),
            Err(e) => {
                return error_response(
                    StatusCode::BAD_REQUEST,
                    &headers,
                    &format!("the `variables` URL parameter is not JSON: {e}"),
                );
            }
        }
    }
    execute(&state, &headers, BatchRequest::Single(request)).await
}

/// `POST /graphql`.
pub async fn post_graphql(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if !media_type.eq_ignore_ascii_case(APPLICATION_JSON)
        && !media_type.eq_ignore_ascii_case(GRAPHQL_RESPONSE_JSON)
    {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &headers,
            &format!("expected Content-Type: application/json, got `{content_type}`"),
        );
    }
    match serde_json::from_slice::<BatchRequest>(&body) {
        // A misspelt or missing `query` is a bad request, not an empty document.
        Ok(batch) if batch.iter().any(|r| r.query.trim().is_empty()) => error_response(
            StatusCode::BAD_REQUEST,
            &headers,
            "the request has no `query`: send {\"query\": \"<GraphQL document>\"}",
        ),
        Ok(batch) => execute(&state, &headers, batch).await,
        Err(e) => error_response(
            StatusCode::BAD_REQUEST,
            &headers,
            &format!("the body is not a GraphQL request: {e}"),
        ),
    }
}

async fn execute(state: &AppState, headers: &HeaderMap, batch: BatchRequest) -> Response {
    let caller = caller(state, headers);
    let mut introspection_only = true;
    let mut prepare = |mut request: Request| {
        // Parsed once per distinct document; async-graphql still validates each request.
        match state.documents.parse(&request.query) {
            Some(document) => {
                introspection_only &=
                    introspection_only_in(&document, request.operation_name.as_deref());
                request.set_parsed_query((*document).clone());
            }
            None => introspection_only = false,
        }
        for_caller(request, caller)
    };
    let batch = match batch {
        BatchRequest::Single(request) => BatchRequest::Single(prepare(request)),
        BatchRequest::Batch(requests) => {
            BatchRequest::Batch(requests.into_iter().map(&mut prepare).collect())
        }
    };
    let schema = if introspection_only {
        &state.introspection_schema
    } else {
        &state.schema
    };
    let response = schema.execute_batch(batch).await;
    let graphql_response_json = prefers_graphql_response_json(headers);
    let refused = graphql_response_json && failed_before_execution(&response);
    let status = if refused {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let body = if refused {
        // Nothing executed: the GraphQL-over-HTTP spec omits `data` (audits D586, 5E5B).
        serde_json::to_value(&response).map(|mut value| {
            without_data(&mut value);
            value.to_string().into_bytes()
        })
    } else {
        serde_json::to_vec(&response)
    };
    let body = match body {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(error = %e, "cannot serialise a GraphQL response");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let content_type = if graphql_response_json {
        GRAPHQL_RESPONSE_JSON
    } else {
        APPLICATION_JSON
    };
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// The admin key a request presents, if any: `Authorization: Bearer <key>`, else
/// `X-API-Key: <key>`.
pub(super) fn presented_key(headers: &HeaderMap) -> Option<&str> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let api_key = headers.get("x-api-key").and_then(|v| v.to_str().ok());
    bearer.or(api_key)
}

/// Admin when the request carries one of the admin keys in `Authorization: Bearer` or
/// `X-API-Key`.
pub(super) fn caller(state: &AppState, headers: &HeaderMap) -> Caller {
    match presented_key(headers) {
        Some(key) if state.admin_keys.accepts(key.trim()) => Caller::Admin,
        _ => Caller::Anonymous,
    }
}

/// Whether the operation a GET would run is a mutation. Unparsable documents are left to
/// the executor, which reports the syntax error.
fn is_mutation(documents: &Documents, query: &str, operation_name: Option<&str>) -> bool {
    let Some(document) = documents.parse(query) else {
        return false;
    };
    match &document.operations {
        DocumentOperations::Single(op) => op.node.ty == OperationType::Mutation,
        DocumentOperations::Multiple(ops) => match operation_name {
            Some(name) => ops
                .iter()
                .any(|(n, op)| n.as_str() == name && op.node.ty == OperationType::Mutation),
            None => ops.values().any(|op| op.node.ty == OperationType::Mutation),
        },
    }
}

/// Removes `data` from a response (or from each response of a batch).
fn without_data(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(response) => {
            response.remove("data");
        }
        serde_json::Value::Array(all) => all.iter_mut().for_each(without_data),
        _ => {}
    }
}

/// A parse or validation error: no data, and no error tied to a field.
fn failed_before_execution(response: &BatchResponse) -> bool {
    let failed = |r: &async_graphql::Response| {
        r.data == async_graphql::Value::Null
            && !r.errors.is_empty()
            && r.errors.iter().all(|e| e.path.is_empty())
    };
    match response {
        BatchResponse::Single(r) => failed(r),
        BatchResponse::Batch(all) => all.iter().all(failed),
    }
}

fn accepts(headers: &HeaderMap, media_type: &str) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains(media_type))
}

fn prefers_graphql_response_json(headers: &HeaderMap) -> bool {
    accepts(headers, GRAPHQL_RESPONSE_JSON)
}

/// A GraphQL-shaped error (`{"errors": [{"message": …}]}`) for requests refused before
/// the executor sees them.
fn error_response(status: StatusCode, headers: &HeaderMap, message: &str) -> Response {
    let content_type = if prefers_graphql_response_json(headers) {
        GRAPHQL_RESPONSE_JSON
    } else {
        APPLICATION_JSON
    };
    let body = json!({"errors": [{"message": message}]}).to_string();
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}
