//! Idempotent POSTs on the embedded store: replay, mismatch, in-flight duplicates,
//! lease take-over, release and expiry.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use mso_api::gateway::{GatewayRequest, flatten_claims};
use mso_api::idempotency::{
    self, Attempt, IdempotencyKey, LEASE_SECONDS, Outcome, RETENTION_SECONDS, StoredResponse,
};
use mso_api::{Principal, lambda_http::http::Method};
use mso_domain::ids::OrgId;
use mso_store::RecordStore;
use mso_store::embedded::Embedded;

const ROUTE: &str = "POST /v1/prior-auths";

/// One attempt, with defaults for what a test does not vary.
struct Try {
    org: &'static str,
    subject: &'static str,
    route: &'static str,
    path: &'static str,
    query: &'static str,
    key: &'static str,
    body: &'static [u8],
}

impl Default for Try {
    fn default() -> Self {
        Try {
            org: "acme",
            subject: "user-1",
            route: ROUTE,
            path: "/v1/prior-auths",
            query: "",
            key: "k",
            body: b"{}",
        }
    }
}

async fn begin(
    store: &dyn RecordStore,
    t: &Try,
    now: Timestamp,
) -> Result<Outcome, mso_store::StoreError> {
    let (org, key) = (org(t.org), key(t.key));
    let attempt = Attempt {
        org: &org,
        subject: t.subject,
        route: t.route,
        path: t.path,
        query: t.query,
        key: &key,
        body: t.body,
    };
    idempotency::begin(store, &attempt, now).await
}

struct Env {
    store: Arc<dyn RecordStore>,
    _dir: tempfile::TempDir,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn RecordStore> = Embedded::open(dir.path(), "http://127.0.0.1:9".into())
        .unwrap()
        .records();
    Env { store, _dir: dir }
}

fn org(s: &str) -> OrgId {
    OrgId::parse(s).unwrap()
}

fn key(s: &str) -> IdempotencyKey {
    IdempotencyKey::parse(s).unwrap()
}

fn now() -> Timestamp {
    "2026-11-23T17:00:00Z".parse().unwrap()
}

fn later(secs: i64) -> Timestamp {
    now().checked_add(SignedDuration::from_secs(secs)).unwrap()
}

fn created() -> StoredResponse {
    StoredResponse {
        status: 201,
        content_type: "application/json".into(),
        body: r#"{"id":"PA-1"}"#.into(),
    }
}

#[tokio::test]
async fn the_same_key_and_body_replays_the_first_answer() {
    let e = env();
    let s = e.store.as_ref();
    let Outcome::Proceed(ticket) = begin(
        s,
        &Try {
            key: "k-1",
            ..Try::default()
        },
        now(),
    )
    .await
    .unwrap() else {
        panic!("first use proceeds")
    };
    ticket.complete(s, &created(), now()).await.unwrap();
    match begin(
        s,
        &Try {
            key: "k-1",
            ..Try::default()
        },
        later(60),
    )
    .await
    .unwrap()
    {
        Outcome::Replay(stored) => {
            assert_eq!(stored, created());
            let resp = stored.into_replay();
            assert_eq!(resp.status(), 201);
            assert_eq!(resp.headers()["idempotent-replayed"], "true");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_same_key_with_another_body_is_422() {
    let e = env();
    let s = e.store.as_ref();
    let Outcome::Proceed(t) = begin(
        s,
        &Try {
            body: b"{\"a\":1}",
            ..Try::default()
        },
        now(),
    )
    .await
    .unwrap() else {
        panic!()
    };
    t.complete(s, &created(), now()).await.unwrap();
    let outcome = begin(
        s,
        &Try {
            body: b"{\"a\":2}",
            ..Try::default()
        },
        now(),
    )
    .await
    .unwrap();
    assert!(matches!(outcome, Outcome::Mismatch));
    assert_eq!(outcome.into_response().unwrap().status(), 422);
}

#[tokio::test]
async fn a_duplicate_while_the_first_runs_is_409_with_retry_after() {
    let e = env();
    let s = e.store.as_ref();
    let first = begin(s, &Try::default(), now()).await.unwrap();
    assert!(matches!(first, Outcome::Proceed(_)));
    let dup = begin(s, &Try::default(), later(5)).await.unwrap();
    let resp = dup.into_response().unwrap();
    assert_eq!(resp.status(), 409);
    assert_eq!(
        resp.headers()["retry-after"],
        (LEASE_SECONDS - 5).to_string()
    );
}

#[tokio::test]
async fn a_dead_attempt_is_taken_over_after_its_lease() {
    let e = env();
    let s = e.store.as_ref();
    let Outcome::Proceed(dead) = begin(s, &Try::default(), now()).await.unwrap() else {
        panic!()
    };
    let Outcome::Proceed(retry) = begin(s, &Try::default(), later(LEASE_SECONDS + 1))
        .await
        .unwrap()
    else {
        panic!("the lease ran out")
    };
    // The dead attempt waking up cannot complete over the retry.
    assert!(
        dead.complete(s, &created(), later(LEASE_SECONDS + 2))
            .await
            .is_err()
    );
    retry
        .complete(s, &created(), later(LEASE_SECONDS + 2))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_released_key_may_be_used_again() {
    let e = env();
    let s = e.store.as_ref();
    let Outcome::Proceed(t) = begin(
        s,
        &Try {
            body: b"{\"bad\":1}",
            ..Try::default()
        },
        now(),
    )
    .await
    .unwrap() else {
        panic!()
    };
    t.release(s).await.unwrap();
    let again = begin(
        s,
        &Try {
            body: b"{\"good\":1}",
            ..Try::default()
        },
        now(),
    )
    .await
    .unwrap();
    assert!(matches!(again, Outcome::Proceed(_)));
}

#[tokio::test]
async fn keys_expire_after_a_day_and_are_scoped_to_the_organisation() {
    let e = env();
    let s = e.store.as_ref();
    let Outcome::Proceed(t) = begin(s, &Try::default(), now()).await.unwrap() else {
        panic!()
    };
    t.complete(s, &created(), now()).await.unwrap();
    let other_org = begin(
        s,
        &Try {
            org: "other",
            ..Try::default()
        },
        now(),
    )
    .await
    .unwrap();
    assert!(matches!(other_org, Outcome::Proceed(_)));
    let other_route = begin(
        s,
        &Try {
            route: "POST /v1/claims",
            ..Try::default()
        },
        now(),
    )
    .await
    .unwrap();
    assert!(matches!(other_route, Outcome::Proceed(_)));
    let next_day = begin(
        s,
        &Try {
            body: b"{\"new\":1}",
            ..Try::default()
        },
        later(RETENTION_SECONDS + 1),
    )
    .await
    .unwrap();
    assert!(matches!(next_day, Outcome::Proceed(_)));
}

#[tokio::test]
async fn of_sixteen_concurrent_duplicates_exactly_one_proceeds() {
    let e = env();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let store = e.store.clone();
            tokio::spawn(
                async move { begin(store.as_ref(), &Try::default(), now()).await.unwrap() },
            )
        })
        .collect();
    let mut proceeded = 0;
    for t in tasks {
        match t.await.unwrap() {
            Outcome::Proceed(_) => proceeded += 1,
            Outcome::InProgress { .. } => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(proceeded, 1);
}

#[test]
fn keys_are_bounded_printable_ascii() {
    assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
    assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
    assert!(IdempotencyKey::parse("has space").is_err());
    assert_eq!(IdempotencyKey::parse("").unwrap_err().code, "required");
}

#[tokio::test]
async fn one_key_on_two_paths_is_two_requests() {
    // The same key and body sent to two auths' decision routes: the second must
    // run (and write) for PA-2, not replay PA-1's answer.
    let e = env();
    let s = e.store.as_ref();
    let decision = |path| Try {
        route: "POST /v1/prior-auths/{id}/decision",
        path,
        body: br#"{"action":"approve"}"#,
        ..Try::default()
    };
    let Outcome::Proceed(first) = begin(s, &decision("/v1/prior-auths/PA-1/decision"), now())
        .await
        .unwrap()
    else {
        panic!()
    };
    first.complete(s, &created(), now()).await.unwrap();
    let second = begin(s, &decision("/v1/prior-auths/PA-2/decision"), later(1))
        .await
        .unwrap();
    assert!(matches!(second, Outcome::Proceed(_)), "{second:?}");
    // And a different query string is a different request too.
    let with_query = Try {
        query: "dry_run=true",
        ..decision("/v1/prior-auths/PA-1/decision")
    };
    assert!(matches!(
        begin(s, &with_query, later(2)).await.unwrap(),
        Outcome::Proceed(_)
    ));
}

#[tokio::test]
async fn a_colleague_reusing_a_key_runs_their_own_request() {
    let e = env();
    let s = e.store.as_ref();
    let Outcome::Proceed(first) = begin(s, &Try::default(), now()).await.unwrap() else {
        panic!()
    };
    first.complete(s, &created(), now()).await.unwrap();
    let colleague = Try {
        subject: "user-2",
        ..Try::default()
    };
    assert!(matches!(
        begin(s, &colleague, later(1)).await.unwrap(),
        Outcome::Proceed(_)
    ));
    // The first user still gets their replay.
    assert!(matches!(
        begin(s, &Try::default(), later(2)).await.unwrap(),
        Outcome::Replay(_)
    ));
}

#[tokio::test]
async fn an_attempt_is_read_from_the_request_as_api_gateway_delivers_it() {
    let claims = serde_json::json!({"sub": "user-9", "org": "acme", "roles": ["provider_user"]});
    let mut headers = mso_api::lambda_http::http::HeaderMap::new();
    headers.insert("idempotency-key", "key-42".parse().unwrap());
    let req = GatewayRequest {
        method: Method::POST,
        path: "/v1/prior-auths/PA-7K3Q9M/decision".into(),
        query: "x=1".into(),
        route_key: "POST /v1/prior-auths/{id}/decision".into(),
        headers,
        body: b"{\"action\":\"approve\"}".to_vec(),
        claims: Some(flatten_claims(claims.as_object().unwrap())),
        ..Default::default()
    }
    .into_request();
    let principal = Principal::from_request(&req).unwrap();
    let key = IdempotencyKey::of(&req).unwrap();
    assert_eq!(key.as_str(), "key-42");
    let attempt = Attempt::of(&req, &principal, &key);
    assert_eq!(attempt.subject, "user-9");
    assert_eq!(attempt.route, "POST /v1/prior-auths/{id}/decision");
    assert_eq!(attempt.path, "/v1/prior-auths/PA-7K3Q9M/decision");
    assert_eq!(attempt.query, "x=1");
    assert_eq!(attempt.body, b"{\"action\":\"approve\"}");

    let missing = GatewayRequest::default().into_request();
    let err = IdempotencyKey::of(&missing).unwrap_err();
    assert_eq!(
        (err.field.as_str(), err.code.as_str()),
        ("Idempotency-Key", "required")
    );
}
