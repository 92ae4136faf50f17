//! What a handler needs to know about a request besides its payload.

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

/// The API Gateway route key (`GET /v1/prior-auths/{id}`) the request matched.
/// Functions dispatch on it, exactly as API Gateway routed the request.
pub fn route_key(req: &Request) -> Option<&str> {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.route_key.as_deref(),
        _ => None,
    }
}

/// Identifiers that may go in logs: never PHI.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestInfo {
    /// API Gateway's request ID (or the local server's).
    pub request_id: String,
    /// The caller's `X-Correlation-Id` when it is a plausible ID, else the request ID.
    pub correlation_id: String,
}

impl RequestInfo {
    pub fn of(req: &Request) -> RequestInfo {
        let request_id = match req.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone(),
            _ => None,
        }
        .unwrap_or_default();
        // A correlation ID is echoed into logs, so only short, plain tokens are
        // accepted: a client must not be able to write PHI or fake log lines there.
        let correlation_id = req
            .headers()
            .get("x-correlation-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| {
                (1..=64).contains(&v.len())
                    && v.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            })
            .map(String::from)
            .unwrap_or_else(|| request_id.clone());
        RequestInfo {
            request_id,
            correlation_id,
        }
    }
}
