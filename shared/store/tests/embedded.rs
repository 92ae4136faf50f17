//! The contract suite against the embedded adapters (a fresh temp dir per test),
//! plus what only the embedded store promises: durability across reopen, exact
//! presigned-request enforcement, group commit.
#![cfg(feature = "embedded")]

mod contract;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use contract::{JOBS, MAX_RECEIVE_COUNT, now};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use mso_store::embedded::{Embedded, EmbeddedDocumentStore, PresignedOutcome};
use mso_store::{
    Condition, DocumentStore, Key, Query, ReceiveOptions, Record, RecordStore, StoreError,
    WorkQueue,
};
use serde_json::json;

/// A data directory, its stores, and a tiny HTTP server for presigned URLs.
struct Local {
    embedded: Embedded,
    // Dropped last: the stores must close before the directory goes.
    _dir: tempfile::TempDir,
}

impl Local {
    async fn start() -> Local {
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let embedded = Embedded::open(dir.path(), base_url).unwrap();
        embedded
            .queue()
            .set_max_receive_count(JOBS, Some(MAX_RECEIVE_COUNT));
        tokio::spawn(serve(listener, embedded.documents()));
        Local {
            embedded,
            _dir: dir,
        }
    }
}

/// What `mso serve` does at `/_local/objects/*`, in miniature.
async fn serve(listener: tokio::net::TcpListener, documents: Arc<EmbeddedDocumentStore>) {
    while let Ok((stream, _)) = listener.accept().await {
        let documents = Arc::clone(&documents);
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(Arc::clone(&documents), request));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(
    documents: Arc<EmbeddedDocumentStore>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let outcome = documents
        .serve_presigned(&parts.method, path, &parts.headers, body, now())
        .await;
    let response = |status: StatusCode, body: Bytes| {
        let mut response = Response::new(Full::new(body));
        *response.status_mut() = status;
        response
    };
    Ok(match outcome {
        Ok(PresignedOutcome::Stored(_)) => response(StatusCode::OK, Bytes::new()),
        Ok(PresignedOutcome::Found(meta, bytes)) => {
            let mut r = response(StatusCode::OK, bytes);
            for (name, value) in PresignedOutcome::download_headers(&meta) {
                r.headers_mut().insert(name, value.parse().unwrap());
            }
            r
        }
        Ok(PresignedOutcome::NotFound) => response(StatusCode::NOT_FOUND, Bytes::new()),
        Err(StoreError::PresignRefused(reason)) => {
            response(StatusCode::FORBIDDEN, Bytes::from(reason))
        }
        Err(StoreError::ConditionFailed) => response(StatusCode::PRECONDITION_FAILED, Bytes::new()),
        Err(e) => response(
            StatusCode::INTERNAL_SERVER_ERROR,
            Bytes::from(e.to_string()),
        ),
    })
}

/// One test per contract check, each on its own data directory.
macro_rules! contract {
    ($($name:ident($store:ident $(, $arg:expr)*);)*) => {$(
        #[tokio::test]
        async fn $name() {
            let local = Local::start().await;
            contract::$name(&*local.embedded.$store() $(, $arg)*).await;
        }
    )*};
}

contract! {
    get_absent(records);
    put_get_round_trip(records);
    get_many_in_order(records);
    delete_many_lazy_removes_each(records);
    put_absent(records);
    append_only(records);
    put_absent_or_expired(records);
    put_version_is(records);
    put_lazy_or_get(records);
    empty_keys_are_refused(records);
    transact_all_or_nothing(records);
    transact_of_one_write(records);
    query_primary(records);
    query_gsi1(records);
    query_paging(records);
    query_cursors_are_sealed(records);
    query_between(records);
    documents_crud(documents);
    put_if_absent_never_replaces(documents);
    presigned_put_then_get(documents);
    presigned_put_never_replaces(documents);
    presigned_get(documents);
    queue_send_receive_delete(queue);
    queue_wait_for_message(queue);
    queue_visibility_timeout(queue);
    queue_dead_letter(queue);
    queue_dedup(queue, JOBS);
    queue_send_many(queue, JOBS);
}

// ------------------------------------------------------------ embedded only

/// Moto does not check presigned signatures, so refusals are tested here only.
#[tokio::test]
async fn presigned_put_refuses_anything_but_what_was_signed() {
    let local = Local::start().await;
    let documents = local.embedded.documents();
    let body = Bytes::from_static(b"12345");
    let signed = documents
        .presign_put("in/a.csv", "text/csv", 5, Duration::from_secs(60))
        .await
        .unwrap();

    let mut other_type = signed.clone();
    other_type.headers = vec![("content-type".into(), "text/plain".into())];
    let response = contract::send_presigned(&other_type, body.clone()).await;
    assert_eq!(
        response.status(),
        StatusCode::FORBIDDEN,
        "different content type"
    );
    assert_eq!(
        response.text().await.unwrap(),
        "content type does not match the signature"
    );

    let mut no_type = signed.clone();
    no_type.headers.clear();
    assert_eq!(
        contract::send_presigned(&no_type, body.clone())
            .await
            .status(),
        StatusCode::FORBIDDEN
    );

    let mut longer = signed.clone();
    longer.headers = vec![("content-type".into(), "text/csv".into())];
    let response = contract::send_presigned(&longer, Bytes::from_static(b"123456")).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "different length");
    assert_eq!(
        response.text().await.unwrap(),
        "content length does not match the signature"
    );

    let mut forged = signed.clone();
    forged.url = signed
        .url
        .replace("X-Mso-Content-Length=5", "X-Mso-Content-Length=6");
    let response = contract::send_presigned(&forged, Bytes::from_static(b"123456")).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "edited URL");

    let mut other_key = signed.clone();
    other_key.url = signed.url.replace("in/a.csv", "in/b.csv");
    assert_eq!(
        contract::send_presigned(&other_key, body.clone())
            .await
            .status(),
        StatusCode::FORBIDDEN
    );

    let mut replacing = signed.clone();
    replacing
        .headers
        .retain(|(name, _)| !name.eq_ignore_ascii_case("if-none-match"));
    let response = contract::send_presigned(&replacing, body.clone()).await;
    assert_eq!(
        response.status(),
        StatusCode::FORBIDDEN,
        "without the create-only header"
    );
    assert_eq!(
        response.text().await.unwrap(),
        "the signed If-None-Match: * header is missing"
    );

    let mut as_get = signed.clone();
    as_get.method = http::Method::GET;
    as_get.headers.clear();
    assert_eq!(
        contract::send_presigned(&as_get, Bytes::new())
            .await
            .status(),
        StatusCode::FORBIDDEN
    );

    assert_eq!(
        documents.head("in/a.csv").await.unwrap(),
        None,
        "nothing stored by refused requests"
    );
    assert_eq!(documents.head("in/b.csv").await.unwrap(), None);
    assert!(
        contract::send_presigned(&signed, body)
            .await
            .status()
            .is_success(),
        "the signed request itself works"
    );
}

#[tokio::test]
async fn presigned_urls_expire() {
    let local = Local::start().await;
    let documents = local.embedded.documents();
    documents
        .put("x.txt", "text/plain", Bytes::from_static(b"x"))
        .await
        .unwrap();
    let get = documents
        .presign_get("x.txt", Duration::from_secs(60))
        .await
        .unwrap();
    let put = documents
        .presign_put("x.txt", "text/plain", 1, Duration::from_secs(60))
        .await
        .unwrap();
    let path = |url: &str| url[url.find("/_local/").unwrap()..].to_string();
    let headers = http::HeaderMap::from_iter([
        (http::header::CONTENT_TYPE, "text/plain".parse().unwrap()),
        (http::header::CONTENT_LENGTH, "1".parse().unwrap()),
    ]);

    let (get_path, put_path, no_headers) = (path(&get.url), path(&put.url), http::HeaderMap::new());
    let at = |now| {
        documents.serve_presigned(
            &http::Method::GET,
            &get_path,
            &no_headers,
            Bytes::new(),
            now,
        )
    };
    assert!(
        matches!(at(get.expires_at).await, Ok(PresignedOutcome::Found(..))),
        "valid until its expiry"
    );
    assert!(matches!(
        at(get.expires_at + 1).await,
        Err(StoreError::PresignRefused("expired"))
    ));

    let late = documents
        .serve_presigned(
            &http::Method::PUT,
            &put_path,
            &headers,
            Bytes::from_static(b"y"),
            put.expires_at + 1,
        )
        .await;
    assert!(matches!(late, Err(StoreError::PresignRefused("expired"))));
    assert_eq!(
        documents.get("x.txt").await.unwrap().unwrap().1,
        Bytes::from_static(b"x")
    );

    // And through HTTP: a URL signed to expire in one second.
    let short = documents
        .presign_get("x.txt", Duration::from_millis(10))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(
        (short.expires_at - now() + 1).max(0) as u64 * 1000 + 100,
    ))
    .await;
    assert_eq!(
        contract::send_presigned(&short, Bytes::new())
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn presigned_requests_reject_bad_paths_and_keys() {
    let local = Local::start().await;
    let documents = local.embedded.documents();
    let empty = http::HeaderMap::new();
    for path in [
        "/elsewhere/x",
        "/_local/objects/../presign.key?X-Mso-Method=GET&X-Mso-Expires=9999999999&X-Mso-Signature=00",
        "/_local/objects/%2e%2e/presign.key?X-Mso-Method=GET&X-Mso-Expires=9999999999&X-Mso-Signature=00",
        "/_local/objects//etc/passwd?X-Mso-Method=GET&X-Mso-Expires=9999999999&X-Mso-Signature=00",
        "/_local/objects/a?X-Mso-Method=GET&X-Mso-Expires=9999999999",
        "/_local/objects/a?X-Mso-Method=GET&X-Mso-Expires=9999999999&X-Mso-Signature=zz",
        "/_local/objects/a%ZZ?X-Mso-Method=GET",
    ] {
        let result = documents
            .serve_presigned(&http::Method::GET, path, &empty, Bytes::new(), now())
            .await;
        assert!(
            matches!(result, Err(StoreError::PresignRefused(_))),
            "{path}: {result:?}"
        );
    }
    for key in ["../x", "/abs", "a//b", "a/", ""] {
        assert!(
            documents
                .presign_get(key, Duration::from_secs(5))
                .await
                .is_err(),
            "{key:?}"
        );
        assert!(
            documents
                .put(key, "text/plain", Bytes::new())
                .await
                .is_err(),
            "{key:?}"
        );
    }
}

/// Appends are answered before their fsync; the writer flushes them within the
/// flush interval. A child process appends, waits past the interval, then dies
/// without any chance to clean up; the parent finds every append on disk.
#[test]
fn appends_survive_a_crash_after_the_flush_interval() {
    const CHILD: &str = "MSO_STORE_CRASH_CHILD";
    if let Some(dir) = std::env::var_os(CHILD) {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let embedded =
            Embedded::open(std::path::Path::new(&dir), "http://127.0.0.1:1".into()).unwrap();
        rt.block_on(async {
            for i in 0..50 {
                let record =
                    Record::new(Key::new("AUDIT#crash", format!("{i:03}")), json!({"i": i}));
                embedded.records().append(record).await.unwrap();
            }
        });
        std::thread::sleep(Duration::from_millis(300));
        std::process::abort();
    }
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "appends_survive_a_crash_after_the_flush_interval",
            "--nocapture",
        ])
        .env(CHILD, dir.path())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "the child must die abruptly");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let embedded = Embedded::open(dir.path(), "http://127.0.0.1:1".into()).unwrap();
    let page = rt
        .block_on(
            embedded
                .records()
                .query(Query::primary("AUDIT#crash", "").limit(100)),
        )
        .unwrap();
    assert_eq!(page.records.len(), 50);
}

#[tokio::test]
async fn appends_share_commits_without_fsyncing_each() {
    let local = Local::start().await;
    let records = local.embedded.records();
    let before = local.embedded.write_stats();
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let records = records.clone();
            tokio::spawn(async move {
                records
                    .append(Record::new(
                        Key::new("AUDIT#load", format!("{i:04}")),
                        json!({}),
                    ))
                    .await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let after = local.embedded.write_stats();
    assert_eq!(after.writes - before.writes, 200);
    assert!(
        after.commits - before.commits < 200,
        "{before:?} -> {after:?}"
    );
    let page = records
        .query(Query::primary("AUDIT#load", "").limit(500))
        .await
        .unwrap();
    assert_eq!(page.records.len(), 200);
}

#[tokio::test]
async fn data_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let record = Record::new(Key::new("MEMBER#9", "MEMBER"), json!({"kept": true}))
        .with_index(Key::new("ORG#1", "MEMBER#9"))
        .with_expiry(123);
    let presigned = {
        let embedded = Embedded::open(dir.path(), "http://127.0.0.1:1".into()).unwrap();
        embedded
            .records()
            .put(record.clone(), Condition::Absent)
            .await
            .unwrap();
        embedded
            .documents()
            .put("kept/doc.txt", "text/plain", Bytes::from_static(b"doc"))
            .await
            .unwrap();
        embedded
            .queue()
            .send("work", "message", "m-1")
            .await
            .unwrap();
        // A second open while this one is alive is refused (the file is locked).
        assert!(Embedded::open(dir.path(), "http://127.0.0.1:1".into()).is_err());
        embedded
            .documents()
            .presign_get("kept/doc.txt", Duration::from_secs(600))
            .await
            .unwrap()
    };
    let key_file = std::fs::read(dir.path().join("presign.key")).unwrap();

    let embedded = Embedded::open(dir.path(), "http://127.0.0.1:1".into()).unwrap();
    assert_eq!(
        embedded.records().get(&record.key).await.unwrap(),
        Some(record.clone())
    );
    let index = embedded
        .records()
        .query(Query::gsi1("ORG#1", ""))
        .await
        .unwrap();
    assert_eq!(index.records, vec![record]);
    let (meta, bytes) = embedded
        .documents()
        .get("kept/doc.txt")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (bytes, meta.content_type.as_deref()),
        (Bytes::from_static(b"doc"), Some("text/plain"))
    );
    let messages = embedded
        .queue()
        .receive("work", ReceiveOptions::default())
        .await
        .unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].body, "message");
    // The dedup window survives too.
    embedded.queue().send("work", "again", "m-1").await.unwrap();
    let visible = ReceiveOptions {
        visibility_timeout: Duration::ZERO,
        ..ReceiveOptions::default()
    };
    assert!(
        embedded
            .queue()
            .receive("work", visible)
            .await
            .unwrap()
            .is_empty()
    );

    // The signing secret is reused, so URLs handed out before a restart still work.
    assert_eq!(
        std::fs::read(dir.path().join("presign.key")).unwrap(),
        key_file
    );
    let path = &presigned.url[presigned.url.find("/_local/").unwrap()..];
    let outcome = embedded
        .documents()
        .serve_presigned(
            &http::Method::GET,
            path,
            &http::HeaderMap::new(),
            Bytes::new(),
            now(),
        )
        .await;
    assert!(matches!(outcome, Ok(PresignedOutcome::Found(..))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_conditional_puts_have_one_winner() {
    let local = Local::start().await;
    let records = local.embedded.records();
    let key = Key::new("IDEMPOTENCY#race", "IDEMPOTENCY");
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let (records, key) = (Arc::clone(&records), key.clone());
            tokio::spawn(async move {
                (
                    i,
                    records
                        .put(Record::new(key, json!(i)), Condition::Absent)
                        .await,
                )
            })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            (i, Ok(())) => winners.push(i),
            (_, Err(StoreError::ConditionFailed)) => {}
            (_, Err(e)) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(
        winners.len(),
        1,
        "exactly one conditional put wins: {winners:?}"
    );
    assert_eq!(
        records.get(&key).await.unwrap().unwrap().body,
        json!(winners[0])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_commit_batches_concurrent_writes() {
    let local = Local::start().await;
    let records = local.embedded.records();
    let before = local.embedded.write_stats();
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let records = Arc::clone(&records);
            tokio::spawn(async move {
                let record =
                    Record::new(Key::new("AUDIT#batch", format!("{i:04}")), json!({"i": i}));
                records.put(record, Condition::Absent).await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let stats = local.embedded.write_stats();
    let (commits, writes) = (stats.commits - before.commits, stats.writes - before.writes);
    assert_eq!(writes, 200);
    assert!(
        commits < 100,
        "200 concurrent puts took {commits} commits: not batched"
    );

    let page = records
        .query(Query::primary("AUDIT#batch", "").limit(1000))
        .await
        .unwrap();
    assert_eq!(page.records.len(), 200, "every batched write is readable");
    assert!(
        page.records
            .iter()
            .enumerate()
            .all(|(i, r)| r.body == json!({"i": i}))
    );
}

#[tokio::test]
async fn a_failed_write_in_a_batch_leaves_the_others() {
    // Conditions are checked against earlier writes of the same batch.
    let local = Local::start().await;
    let records = local.embedded.records();
    let key = Key::new("P", "S");
    let (a, b, c) = tokio::join!(
        records.put(Record::new(key.clone(), json!("a")), Condition::Absent),
        records.put(
            Record::new(key.clone(), json!("b")).with_version(2),
            Condition::VersionIs(1)
        ),
        records.put(
            Record::new(key.clone(), json!("c")).with_version(3),
            Condition::VersionIs(1)
        ),
    );
    a.unwrap();
    b.unwrap();
    assert!(matches!(c, Err(StoreError::ConditionFailed)));
    assert_eq!(records.get(&key).await.unwrap().unwrap().body, json!("b"));
}

#[tokio::test]
async fn transactions_refuse_two_operations_on_one_key() {
    // As DynamoDB does, so code that passes locally passes deployed.
    let local = Local::start().await;
    let key = Key::new("P", "S");
    let op = || mso_store::WriteOp::Put {
        record: Record::new(key.clone(), json!(1)),
        condition: Condition::None,
    };
    let result = local.embedded.records().transact(vec![op(), op()]).await;
    assert!(
        matches!(result, Err(StoreError::InvalidInput(_))),
        "{result:?}"
    );
    assert_eq!(local.embedded.records().get(&key).await.unwrap(), None);
}

#[tokio::test]
async fn a_stale_receipt_does_not_delete() {
    let local = Local::start().await;
    let queue = local.embedded.queue();
    queue.send("q", "m", "d").await.unwrap();
    let zero = ReceiveOptions {
        visibility_timeout: Duration::ZERO,
        ..ReceiveOptions::default()
    };
    let first = queue.receive("q", zero).await.unwrap();
    let second = queue.receive("q", zero).await.unwrap();
    queue.delete("q", &first[0].receipt).await.unwrap();
    let third = queue.receive("q", zero).await.unwrap();
    assert_eq!(
        third[0].receive_count, 3,
        "still there after a stale delete"
    );
    queue.delete("q", &second[0].receipt).await.unwrap();
    queue.delete("q", &third[0].receipt).await.unwrap();
    assert!(queue.receive("q", zero).await.unwrap().is_empty());
    assert!(queue.delete("q", "garbage").await.is_err());
}

/// Latency at the eligibility endpoint's load: 1000 requests/s, each one read and
/// one audit write (group-committed, durable). A measurement, not a check:
/// `cargo test --release -p mso-store --no-default-features --features embedded \
///     --test embedded -- --ignored --nocapture write_latency`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; run explicitly, preferably with --release"]
async fn write_latency_at_1000_per_second() {
    let local = Local::start().await;
    let records = local.embedded.records();
    let member = Key::new("MEMBER#1", "MEMBER");
    let body = json!({"member_id": "1", "spans": [{"from": "2024-01-01", "to": "2024-12-31"}]});
    records
        .put(Record::new(member.clone(), body), Condition::None)
        .await
        .unwrap();
    let before = local.embedded.write_stats();

    let mut interval = tokio::time::interval(Duration::from_millis(1));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut tasks = Vec::new();
    for i in 0..3000 {
        interval.tick().await;
        let (records, member) = (Arc::clone(&records), member.clone());
        tasks.push(tokio::spawn(async move {
            let start = std::time::Instant::now();
            records.get(&member).await.unwrap().unwrap();
            let read = start.elapsed();
            let audit = Record::new(
                Key::new("AUDIT#2024-01-01", format!("{i:06}")),
                json!({"i": i}),
            )
            .with_index(Key::new("AUDIT#ACTOR#org#sub", format!("{i:06}")));
            records.put(audit, Condition::Absent).await.unwrap();
            (read, start.elapsed())
        }));
    }
    let mut reads = Vec::new();
    let mut totals = Vec::new();
    for task in tasks {
        let (read, total) = task.await.unwrap();
        reads.push(read);
        totals.push(total);
    }
    reads.sort();
    totals.sort();
    let pct = |v: &[Duration], p: f64| v[((v.len() as f64 * p) as usize).min(v.len() - 1)];
    let stats = local.embedded.write_stats();
    let mut out = std::io::stderr();
    use std::io::Write;
    let _ = writeln!(
        out,
        "read: p50 {:?} p99 {:?} max {:?}\nread+write: p50 {:?} p99 {:?} max {:?}\ncommits {} for {} writes",
        pct(&reads, 0.5),
        pct(&reads, 0.99),
        reads[reads.len() - 1],
        pct(&totals, 0.5),
        pct(&totals, 0.99),
        totals[totals.len() - 1],
        stats.commits - before.commits,
        stats.writes - before.writes,
    );
}
