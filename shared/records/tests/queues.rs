//! The work queues' overdue reads on the embedded store: rows keyed by their due
//! instant, counted up to `due_by(now)`, the first few listed by their ID.

use jiff::Timestamp;
use mso_api::audit::sortable_instant;
use mso_store::embedded::Embedded;
use mso_store::{Condition, Key, Record, RecordStore};
use serde_json::json;

const QUEUE: &str = "UMQUEUE";

async fn row(store: &dyn RecordStore, due: &str, body: serde_json::Value) {
    let due: Timestamp = due.parse().unwrap();
    let id = body["id"].as_str().unwrap_or("corrupt").to_string();
    let key = Key::new(QUEUE, format!("{}#{id}", sortable_instant(due)));
    store
        .put(Record::new(key, body), Condition::None)
        .await
        .unwrap();
}

#[tokio::test]
async fn what_is_due_is_counted_and_the_earliest_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let embedded = Embedded::open(dir.path(), "http://127.0.0.1:9".into()).unwrap();
    let store = embedded.records();
    for (due, id) in [
        ("2026-03-10T10:03:00Z", "PA-3"),
        ("2026-03-10T10:00:00Z", "PA-0"),
        ("2026-03-10T10:01:00Z", "PA-1"),
        ("2026-03-10T11:00:00Z", "PA-LATER"),
    ] {
        row(store.as_ref(), due, json!({"id": id, "status": "pended"})).await;
    }
    // A row whose body names no record is still overdue work: counted, not listed.
    row(
        store.as_ref(),
        "2026-03-10T10:00:30Z",
        json!(["not", "a", "summary"]),
    )
    .await;

    let due = mso_records::due_by("2026-03-10T10:03:00Z".parse().unwrap());
    let (count, listed) = mso_records::overdue(store.as_ref(), QUEUE, &due, 2)
        .await
        .unwrap();
    assert_eq!(
        count, 4,
        "the row due at 10:03 is due at 10:03; 11:00's is not"
    );
    assert_eq!(listed, ["PA-0", "PA-1"]);

    let (count, listed) = mso_records::overdue(store.as_ref(), QUEUE, &due, 100)
        .await
        .unwrap();
    assert_eq!(
        (count, listed),
        (4, vec!["PA-0".into(), "PA-1".into(), "PA-3".to_string()])
    );

    let early = mso_records::due_by("2026-03-10T09:59:59Z".parse().unwrap());
    let nothing = mso_records::overdue(store.as_ref(), QUEUE, &early, 100)
        .await
        .unwrap();
    assert_eq!(nothing, (0, Vec::<String>::new()));
}
