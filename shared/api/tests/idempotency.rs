//! Idempotent POSTs on the embedded store: replay, mismatch, in-flight duplicates,
//! lease take-over, release and expiry.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use mso_api::idempotency::{
    self, IdempotencyKey, LEASE_SECONDS, Outcome, RETENTION_SECONDS, StoredResponse,
};
use mso_domain::ids::OrgId;
use mso_store::RecordStore;
use mso_store::embedded::Embedded;

const ROUTE: &str = "POST /v1/prior-auths";

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
    let Outcome::Proceed(ticket) =
        idempotency::begin(s, &org("acme"), ROUTE, &key("k-1"), b"{}", now())
            .await
            .unwrap()
    else {
        panic!("first use proceeds")
    };
    ticket.complete(s, &created(), now()).await.unwrap();
    match idempotency::begin(s, &org("acme"), ROUTE, &key("k-1"), b"{}", later(60))
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
    let Outcome::Proceed(t) =
        idempotency::begin(s, &org("acme"), ROUTE, &key("k"), b"{\"a\":1}", now())
            .await
            .unwrap()
    else {
        panic!()
    };
    t.complete(s, &created(), now()).await.unwrap();
    let outcome = idempotency::begin(s, &org("acme"), ROUTE, &key("k"), b"{\"a\":2}", now())
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Mismatch));
    assert_eq!(outcome.into_response().unwrap().status(), 422);
}

#[tokio::test]
async fn a_duplicate_while_the_first_runs_is_409_with_retry_after() {
    let e = env();
    let s = e.store.as_ref();
    let first = idempotency::begin(s, &org("acme"), ROUTE, &key("k"), b"{}", now())
        .await
        .unwrap();
    assert!(matches!(first, Outcome::Proceed(_)));
    let dup = idempotency::begin(s, &org("acme"), ROUTE, &key("k"), b"{}", later(5))
        .await
        .unwrap();
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
    let Outcome::Proceed(dead) =
        idempotency::begin(s, &org("acme"), ROUTE, &key("k"), b"{}", now())
            .await
            .unwrap()
    else {
        panic!()
    };
    let Outcome::Proceed(retry) = idempotency::begin(
        s,
        &org("acme"),
        ROUTE,
        &key("k"),
        b"{}",
        later(LEASE_SECONDS + 1),
    )
    .await
    .unwrap() else {
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
    let Outcome::Proceed(t) =
        idempotency::begin(s, &org("acme"), ROUTE, &key("k"), b"{\"bad\":1}", now())
            .await
            .unwrap()
    else {
        panic!()
    };
    t.release(s).await.unwrap();
    let again = idempotency::begin(s, &org("acme"), ROUTE, &key("k"), b"{\"good\":1}", now())
        .await
        .unwrap();
    assert!(matches!(again, Outcome::Proceed(_)));
}

#[tokio::test]
async fn keys_expire_after_a_day_and_are_scoped_to_the_organisation() {
    let e = env();
    let s = e.store.as_ref();
    let Outcome::Proceed(t) = idempotency::begin(s, &org("acme"), ROUTE, &key("k"), b"{}", now())
        .await
        .unwrap()
    else {
        panic!()
    };
    t.complete(s, &created(), now()).await.unwrap();
    let other_org = idempotency::begin(s, &org("other"), ROUTE, &key("k"), b"{}", now())
        .await
        .unwrap();
    assert!(matches!(other_org, Outcome::Proceed(_)));
    let other_route =
        idempotency::begin(s, &org("acme"), "POST /v1/claims", &key("k"), b"{}", now())
            .await
            .unwrap();
    assert!(matches!(other_route, Outcome::Proceed(_)));
    let next_day = idempotency::begin(
        s,
        &org("acme"),
        ROUTE,
        &key("k"),
        b"{\"new\":1}",
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
            tokio::spawn(async move {
                idempotency::begin(store.as_ref(), &org("acme"), ROUTE, &key("k"), b"{}", now())
                    .await
                    .unwrap()
            })
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
