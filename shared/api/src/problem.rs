//! Errors on the wire: `application/problem+json` (RFC 9457) with every bad field
//! listed at once. Each route maps its own error enum to a `Problem` in one place.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use mso_domain::Invalid;
use serde::Serialize;

/// One invalid input field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[cfg_attr(test, derive(serde::Deserialize))]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, invalid: &Invalid) -> Self {
        FieldError {
            field: field.into(),
            code: invalid.code.into(),
            message: invalid.message.to_string(),
        }
    }
}

/// Collects every bad field of a request, so all are reported at once.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    /// Keeps the value, or records why `field` is invalid.
    pub fn check<T>(&mut self, field: &str, result: Result<T, Invalid>) -> Option<T> {
        result
            .map_err(|e| self.0.push(FieldError::new(field, &e)))
            .ok()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_vec(self) -> Vec<FieldError> {
        self.0
    }
}

/// An RFC 9457 problem document. `type` is a stable URN per kind of problem.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    #[schema(example = "urn:mso:problem:invalid-request")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub errors: Vec<FieldError>,
    #[serde(skip)]
    #[schema(ignore)]
    retry_after_seconds: Option<u32>,
}

impl Problem {
    pub fn new(status: StatusCode, slug: &str, title: &str) -> Self {
        Problem {
            kind: format!("urn:mso:problem:{slug}"),
            title: title.into(),
            status: status.as_u16(),
            detail: None,
            errors: Vec::new(),
            retry_after_seconds: None,
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    pub fn with_retry_after(mut self, seconds: u32) -> Self {
        self.retry_after_seconds = Some(seconds);
        self
    }

    /// 400: one or more fields are missing or malformed; all of them are listed.
    pub fn invalid_request(errors: Vec<FieldError>) -> Self {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-request",
            "The request has invalid fields",
        )
        .with_detail("See `errors` for every field that must be corrected.")
        .with_errors(errors)
    }

    /// 401, with the reason; never says which part of a forged token was wrong.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authentication required",
        )
        .with_detail(detail)
    }

    /// 429 for this caller only, with when to try again.
    pub fn too_many_requests(detail: impl Into<String>, retry_after_seconds: u32) -> Self {
        Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-requests",
            "Too many requests",
        )
        .with_detail(detail)
        .with_retry_after(retry_after_seconds)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::FORBIDDEN, "forbidden", "Not allowed").with_detail(detail)
    }

    /// 404. Also the answer for another organisation's record, so IDs cannot be probed.
    pub fn not_found() -> Self {
        Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found")
    }

    pub fn no_route(method: &str, path: &str) -> Self {
        Problem::new(StatusCode::NOT_FOUND, "no-route", "No such route")
            .with_detail(format!("{method} {path} is not part of this API"))
    }

    /// 503: storage or a dependency failed; the request may be retried.
    pub fn unavailable() -> Self {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Temporarily unavailable",
        )
        .with_detail(
            "The service could not complete the request. Nothing was changed; try again shortly.",
        )
        .with_retry_after(2)
    }

    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn into_response(self) -> Response<Body> {
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut resp = json_bytes_response(self.status_code(), body, "application/problem+json");
        let headers = resp.headers_mut();
        if let Some(s) = self.retry_after_seconds {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        if self.status == 401 {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

impl Problem {
    /// The problem document with extension members (RFC 9457 section 3.2) a
    /// client can act on without reading the prose (`existing_dispute_id`,
    /// `deadline`, ...). Members never replace the standard ones.
    pub fn into_response_with(self, members: serde_json::Value) -> Response<Body> {
        let mut doc = serde_json::to_value(&self).unwrap_or_default();
        if let (Some(doc), serde_json::Value::Object(extra)) = (doc.as_object_mut(), members) {
            for (k, v) in extra {
                doc.entry(k).or_insert(v);
            }
        }
        let body = serde_json::to_vec(&doc).unwrap_or_default();
        let mut resp = json_bytes_response(self.status_code(), body, "application/problem+json");
        if let Some(s) = self.retry_after_seconds {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        resp
    }
}

impl From<crate::Forbidden> for Problem {
    fn from(e: crate::Forbidden) -> Self {
        Problem::forbidden(format!("{}.", capitalise(&e.to_string())))
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// A JSON answer. `Cache-Control: no-store` because answers carry PHI.
pub fn json_response<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(body) => json_bytes_response(status, body, "application/json"),
        // Our own response types always serialise; if one ever does not, say so
        // without leaking anything.
        Err(_) => Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
        )
        .into_response(),
    }
}

fn json_bytes_response(
    status: StatusCode,
    body: Vec<u8>,
    content_type: &'static str,
) -> Response<Body> {
    let mut resp = Response::new(Body::Binary(body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_members_are_added_beside_the_standard_ones() {
        let resp = Problem::new(StatusCode::CONFLICT, "dispute-already-open", "Open")
            .into_response_with(
                serde_json::json!({"existing_dispute_id": "DSP-7K3Q9M", "status": 200}),
            );
        assert_eq!(resp.status(), StatusCode::CONFLICT);
        assert_eq!(
            resp.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        assert_eq!(resp.headers()[header::CACHE_CONTROL], "no-store");
        let doc: serde_json::Value = serde_json::from_slice(resp.body().as_ref()).unwrap();
        assert_eq!(doc["existing_dispute_id"], "DSP-7K3Q9M");
        assert_eq!(doc["status"], 409);
        assert_eq!(doc["type"], "urn:mso:problem:dispute-already-open");
    }

    #[test]
    fn problems_are_rfc9457_documents_with_every_field() {
        let p = Problem::invalid_request(vec![
            FieldError::new(
                "dob",
                &Invalid::new("invalid_date", "must be a date written YYYY-MM-DD"),
            ),
            FieldError::new("member_id", &Invalid::required()),
        ]);
        let resp = p.into_response();
        assert_eq!(resp.status(), 400);
        assert_eq!(
            resp.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let v: serde_json::Value = serde_json::from_slice(resp.body().as_ref()).unwrap();
        assert_eq!(v["type"], "urn:mso:problem:invalid-request");
        assert_eq!(v["status"], 400);
        assert_eq!(v["errors"][0]["field"], "dob");
        assert_eq!(v["errors"][1]["code"], "required");
    }

    #[test]
    fn unauthorized_and_unavailable_carry_their_headers() {
        let r = Problem::unauthorized("missing bearer token").into_response();
        assert_eq!(r.headers()[header::WWW_AUTHENTICATE], "Bearer");
        let r = Problem::unavailable().into_response();
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()[header::RETRY_AFTER], "2");
    }
}
