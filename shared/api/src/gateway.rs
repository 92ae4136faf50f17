//! Builds the request API Gateway (HTTP API, payload 2.0) hands a Lambda, for the
//! local server and for tests, so handlers see exactly one shape of request.

use std::collections::HashMap;

use lambda_http::Request;
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayRequestAuthorizer, ApiGatewayRequestAuthorizerJwtDescription,
    ApiGatewayV2httpRequest, ApiGatewayV2httpRequestContext,
    ApiGatewayV2httpRequestContextHttpDescription,
};
use lambda_http::http::{HeaderMap, Method};
use lambda_http::request::LambdaRequest;

/// One HTTP request as API Gateway would describe it after routing.
#[derive(Debug, Clone, Default)]
pub struct GatewayRequest {
    pub method: Method,
    /// The path as requested (`/v1/prior-auths/PA-1`), without the query.
    pub path: String,
    /// The raw query string, without `?`.
    pub query: String,
    /// The matched route (`GET /v1/prior-auths/{id}`).
    pub route_key: String,
    pub path_parameters: HashMap<String, String>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// Verified JWT claims, flattened as API Gateway does ([`flatten_claims`]);
    /// `None` for routes without an authorizer.
    pub claims: Option<HashMap<String, String>>,
    pub request_id: String,
    pub source_ip: String,
    /// Milliseconds since the epoch.
    pub time_epoch_ms: i64,
}

impl GatewayRequest {
    /// The request as a Lambda handler receives it. Headers a client could use to
    /// break URI building are made safe first (see [`sanitize_headers`]), so no
    /// header value can panic the request task.
    pub fn into_request(mut self) -> Request {
        sanitize_headers(&mut self.headers);
        let mut http = ApiGatewayV2httpRequestContextHttpDescription::default();
        http.method = self.method.clone();
        http.path = Some(self.path.clone());
        http.protocol = Some("HTTP/1.1".into());
        http.source_ip = Some(self.source_ip);
        http.user_agent = self
            .headers
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .map(String::from);

        let mut ctx = ApiGatewayV2httpRequestContext::default();
        ctx.route_key = Some(self.route_key.clone());
        ctx.account_id = Some("local".into());
        ctx.apiid = Some("mso-local".into());
        ctx.stage = Some("$default".into());
        ctx.request_id = Some(self.request_id);
        ctx.domain_name = self
            .headers
            .get("host")
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        ctx.time_epoch = self.time_epoch_ms;
        ctx.http = http;
        ctx.authorizer = self.claims.map(|claims| {
            let mut jwt = ApiGatewayRequestAuthorizerJwtDescription::default();
            jwt.claims = claims;
            let mut authorizer = ApiGatewayRequestAuthorizer::default();
            authorizer.jwt = Some(jwt);
            authorizer
        });

        let mut event = ApiGatewayV2httpRequest::default();
        event.version = Some("2.0".into());
        event.route_key = Some(self.route_key);
        event.raw_path = Some(self.path);
        event.raw_query_string = Some(self.query);
        event.headers = self.headers;
        event.path_parameters = self.path_parameters;
        event.request_context = ctx;
        if !self.body.is_empty() {
            match String::from_utf8(self.body) {
                Ok(text) => event.body = Some(text),
                Err(e) => {
                    use base64::Engine;
                    event.body =
                        Some(base64::engine::general_purpose::STANDARD.encode(e.into_bytes()));
                    event.is_base64_encoded = true;
                }
            }
        }
        Request::from(LambdaRequest::ApiGatewayV2(event))
    }
}

/// Makes client-controlled headers safe to build a URI from, as API Gateway does
/// by owning them: a `Host` that is not a valid host\[:port\] is dropped (the
/// request then has a relative URI) and `X-Forwarded-Proto` is kept only when it
/// is `http` or `https`. lambda_http builds `{proto}://{host}{path}` and would
/// panic on anything else.
pub fn sanitize_headers(headers: &mut HeaderMap) {
    let host_ok = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|host| {
            // Host names, IPv4 and bracketed IPv6 addresses, and a port: what a
            // real Host header holds. Then exactly lambda_http's own parse.
            !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
                && url::Url::parse(&format!("http://{host}/")).is_ok_and(|u| {
                    u.path() == "/" && u.to_string().parse::<lambda_http::http::Uri>().is_ok()
                })
        });
    if !host_ok {
        headers.remove(HOST);
    }
    let proto_ok = headers
        .get(X_FORWARDED_PROTO)
        .is_none_or(|v| v == "http" || v == "https");
    if !proto_ok {
        headers.remove(X_FORWARDED_PROTO);
    }
}

const HOST: &str = "host";
const X_FORWARDED_PROTO: &str = "x-forwarded-proto";

/// Flattens JWT claims the way API Gateway's JWT authorizer does: strings stay as
/// they are, numbers and booleans become their text, arrays become `[a b c]`.
pub fn flatten_claims(
    claims: &serde_json::Map<String, serde_json::Value>,
) -> HashMap<String, String> {
    use serde_json::Value;
    fn text(v: &Value) -> String {
        match v {
            Value::String(s) => s.clone(),
            Value::Array(items) => {
                format!("[{}]", items.iter().map(text).collect::<Vec<_>>().join(" "))
            }
            other => other.to_string(),
        }
    }
    claims.iter().map(|(k, v)| (k.clone(), text(v))).collect()
}

#[cfg(test)]
mod tests {
    use lambda_http::RequestExt;

    use super::*;
    use crate::{Principal, route_key};

    #[test]
    fn builds_a_request_handlers_can_read() {
        let claims = serde_json::json!({"sub": "u1", "org": "sunrise-fm", "roles": ["provider_user"], "npis": ["1234567893"], "exp": 1});
        let req = GatewayRequest {
            method: Method::GET,
            path: "/v1/eligibility".into(),
            query: "member_id=M100&dob=1980-01-02".into(),
            route_key: "GET /v1/eligibility".into(),
            claims: Some(flatten_claims(claims.as_object().unwrap())),
            request_id: "r-1".into(),
            ..Default::default()
        }
        .into_request();
        assert_eq!(route_key(&req), Some("GET /v1/eligibility"));
        assert_eq!(
            req.query_string_parameters_ref()
                .and_then(|q| q.first("dob")),
            Some("1980-01-02")
        );
        let p = Principal::from_request(&req).unwrap();
        assert_eq!(p.org.as_str(), "sunrise-fm");
        assert_eq!(p.npis.len(), 1);
    }

    fn with_headers(pairs: &[(&str, &[u8])]) -> Request {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                lambda_http::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                lambda_http::http::HeaderValue::from_bytes(value).unwrap(),
            );
        }
        GatewayRequest {
            method: Method::GET,
            path: "/v1/policy".into(),
            route_key: "GET /v1/policy".into(),
            headers,
            ..Default::default()
        }
        .into_request()
    }

    #[test]
    fn odd_host_and_forwarded_headers_do_not_panic() {
        for (name, value) in [
            ("host", &b"a b"[..]),
            ("host", b"[::1"),
            ("host", b"a:99999"),
            ("host", b"a/b"),
            ("host", b"user@host"),
            ("host", b"\xff\xfe"),
            ("host", b""),
            ("x-forwarded-proto", b"1"),
            ("x-forwarded-proto", b"ftp://x"),
            ("x-forwarded-proto", b"\xff"),
        ] {
            let req = with_headers(&[(name, value), ("host", b"127.0.0.1:3000")]);
            assert_eq!(req.uri().path(), "/v1/policy", "{name}: {value:?}");
        }
        let ok = with_headers(&[("host", b"localhost:3000"), ("x-forwarded-proto", b"http")]);
        assert_eq!(ok.uri().to_string(), "http://localhost:3000/v1/policy");
    }

    proptest::proptest! {
        #[test]
        fn no_host_or_proto_value_panics(host in proptest::collection::vec(0x20u8..0xff, 0..40), proto in proptest::collection::vec(0x20u8..0xff, 0..12)) {
            let host: Vec<u8> = host.into_iter().filter(|b| *b != 0x7f).collect();
            let proto: Vec<u8> = proto.into_iter().filter(|b| *b != 0x7f).collect();
            let req = with_headers(&[("host", &host), ("x-forwarded-proto", &proto)]);
            proptest::prop_assert_eq!(req.uri().path(), "/v1/policy");
        }
    }

    #[test]
    fn flattens_claims_like_api_gateway() {
        let claims = serde_json::json!({"roles": ["a", "b"], "exp": 5, "sub": "x"});
        let flat = flatten_claims(claims.as_object().unwrap());
        assert_eq!(flat["roles"], "[a b]");
        assert_eq!(flat["exp"], "5");
        assert_eq!(flat["sub"], "x");
    }
}
