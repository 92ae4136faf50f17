//! The whole system through HTTP: `mso serve` on a free port with a temporary data
//! directory, driven with tokens of two organisations.

mod support;

use reqwest::StatusCode;
use serde_json::Value;
use support::{Server, npis_of, token};

async fn get(url: &str, token: Option<&str>) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let client = reqwest::Client::new();
    let mut req = client.get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    let text = resp.text().await.unwrap();
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn a_newcomer_gets_a_working_system_from_the_first_start() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    assert!(
        server.preamble.contains("First start: loaded the demo IPA"),
        "{}",
        server.preamble
    );

    // The printed curl line works as pasted.
    let line = server.curl_line.clone();
    let bearer = line
        .split("Bearer ")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let url = line.rsplit(' ').next().unwrap().trim_matches('"');
    assert!(url.starts_with(&server.base));
    let (status, headers, body) = get(url, Some(bearer)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    assert!(headers.contains_key("x-request-id"));
    assert_eq!(body["eligible"], true, "{body}");
    assert_eq!(
        body["delegation"]["financially_responsible"]["party"],
        "ipa"
    );

    let (status, _, body) = get(&server.url("/healthz"), None).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    drop(server);

    // A restart keeps the data and does not load the demo again.
    let again = Server::start(data.path());
    assert!(
        !again.preamble.contains("First start"),
        "{}",
        again.preamble
    );
    let (status, _, body) = get(
        url.replace(&url[..url.find("/v1").unwrap()], &again.base)
            .as_str(),
        Some(bearer),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["eligible"], true);
}

#[tokio::test]
async fn two_organisations_see_only_what_their_tokens_allow() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    let sunrise = npis_of("sunrise-family-medicine");
    let coastal = npis_of("coastal-pediatrics");
    let sunrise_token = token(
        data.path(),
        "sunrise-family-medicine",
        "provider_user",
        &[&sunrise[0]],
    );
    let coastal_token = token(
        data.path(),
        "coastal-pediatrics",
        "provider_user",
        &[&coastal[0]],
    );
    let today = jiff::Timestamp::now()
        .in_tz("America/Los_Angeles")
        .unwrap()
        .date();
    let lookup = |npi: &str| {
        server.url(&format!(
            "/v1/eligibility?member_id=SUN100001&dob=1984-03-15&dos={today}&npi={npi}"
        ))
    };

    let (status, _, body) = get(&lookup(&sunrise[0]), Some(&sunrise_token)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["rendering_provider"]["npi"], sunrise[0].as_str());

    // Coastal may check the member for its own provider, not for Sunrise's.
    let (status, _, body) = get(&lookup(&coastal[0]), Some(&coastal_token)).await;
    assert_eq!(status, 200, "{body}");
    let (status, headers, body) = get(&lookup(&sunrise[0]), Some(&coastal_token)).await;
    assert_eq!(status, 403);
    assert_eq!(headers["content-type"], "application/problem+json");
    assert_eq!(body["errors"][0]["field"], "npi");

    // A wrong date of birth reveals nothing.
    let (status, _, body) = get(
        &server.url(&format!(
            "/v1/eligibility?member_id=SUN100001&dob=1984-03-16&dos={today}"
        )),
        Some(&sunrise_token),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["reasons"][0]["code"], "member_not_found");
    assert_eq!(body["coverage"], Value::Null);

    let logs = server.stop();
    assert!(
        logs.contains("\"status\":403"),
        "requests are logged: {logs}"
    );
    for phi in ["SUN100001", "1984-03-15", "1984-03-16"] {
        assert!(!logs.contains(phi), "{phi} in server logs");
    }
}

#[tokio::test]
async fn bad_requests_get_problems_not_crashes() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    let t = token(data.path(), "sunrise-family-medicine", "provider_user", &[]);

    let (status, headers, body) = get(
        &server.url("/v1/eligibility?member_id=&dob=1984-02-30&dos=2026-13-01&npi=1234567890"),
        Some(&t),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(headers["content-type"], "application/problem+json");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["member_id", "dob", "dos", "npi"]);

    // Missing, forged and foreign tokens.
    let (status, headers, _) = get(&server.url("/v1/eligibility"), None).await;
    assert_eq!(status, 401);
    assert_eq!(headers["www-authenticate"], "Bearer");
    let mut forged = t.clone();
    forged.pop();
    forged.push(if t.ends_with('A') { 'B' } else { 'A' });
    assert_eq!(get(&server.url("/v1/policy"), Some(&forged)).await.0, 401);
    let key = std::fs::read(data.path().join("dev-jwt.key")).unwrap();
    let request = mso::dev_token::TokenRequest {
        org: "sunrise-family-medicine".into(),
        roles: vec!["provider_user".into()],
        npis: vec![],
        subject: None,
        ttl_minutes: 60,
    };
    let expired = mso::dev_token::DevTokens::new(&key)
        .mint(&request, "2026-01-01T00:00:00Z".parse().unwrap())
        .unwrap();
    let (status, _, body) = get(&server.url("/v1/policy"), Some(&expired)).await;
    assert_eq!(status, 401);
    assert!(
        body["detail"].as_str().unwrap().contains("expired"),
        "{body}"
    );
    let other_dir = tempfile::tempdir().unwrap();
    let foreign = token(
        other_dir.path(),
        "sunrise-family-medicine",
        "provider_user",
        &[],
    );
    assert_eq!(
        get(&server.url("/v1/policy"), Some(&foreign)).await.0,
        401,
        "a token from another data directory"
    );

    // Unknown routes and methods.
    let (status, _, body) = get(&server.url("/v1/nothing-here"), Some(&t)).await;
    assert_eq!(
        (status, body["type"].as_str()),
        (StatusCode::NOT_FOUND, Some("urn:mso:problem:no-route"))
    );
    let resp = reqwest::Client::new()
        .post(server.url("/v1/eligibility"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.headers()["allow"], "GET");

    // The server is still healthy after all that.
    assert_eq!(get(&server.url("/healthz"), None).await.0, 200);
}

#[tokio::test]
async fn the_policy_and_the_api_description_are_served() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    let t = token(data.path(), "coastal-pediatrics", "provider_user", &[]);
    let (status, _, body) = get(&server.url("/v1/policy"), Some(&t)).await;
    assert_eq!(status, 200);
    assert_eq!(body["disputes"]["filing_window_days"], 120);
    assert!(
        !body["prior_auth"]["pa_required_codes"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let (status, _, doc) = get(&server.url("/openapi.json"), None).await;
    assert_eq!(status, 200);
    assert_eq!(
        doc,
        serde_json::from_str::<Value>(&mso::openapi::json()).unwrap()
    );
}
