//! The contract every adapter passes, written once against the ports.
//!
//! Each check takes fresh, empty stores (a new temp dir, or a new moto) and the
//! logical queue names the harness configured:
//! - `jobs`: dead-letters to `jobs-dlq` after [`MAX_RECEIVE_COUNT`] receives;
//! - a de-duplicating queue, passed to [`queue_dedup`] (the FIFO queue on AWS).

// Each test binary uses the checks that apply to its adapter.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use mso_store::{
    Condition, DocumentStore, Key, Outgoing, PutOutcome, Query, QueueMessage, ReceiveOptions,
    Record, RecordStore, StoreError, WorkQueue, WriteOp,
};
use serde_json::json;

pub const JOBS: &str = "jobs";
pub const JOBS_DLQ: &str = "jobs-dlq";
pub const MAX_RECEIVE_COUNT: u32 = 3;

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn key(pk: &str, sk: &str) -> Key {
    Key::new(pk, sk)
}

fn is_condition_failed<T: std::fmt::Debug>(result: &Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::ConditionFailed))
}

// ---------------------------------------------------------------- records

pub async fn get_absent(records: &dyn RecordStore) {
    assert_eq!(records.get(&key("NOPE", "NOPE")).await.unwrap(), None);
}

pub async fn put_get_round_trip(records: &dyn RecordStore) {
    let body = json!({"name": "Ada", "n": 42, "ratio": 0.25, "tags": ["a", "b"], "nested": {"ok": true, "none": null}});
    let record = Record::new(key("MEMBER#1", "MEMBER"), body)
        .with_index(key("ORG#1", "MEMBER#1"))
        .with_version(7)
        .with_expiry(now() + 3600);
    records.put(record.clone(), Condition::None).await.unwrap();
    assert_eq!(
        records.get(&record.key).await.unwrap(),
        Some(record.clone())
    );

    // A plain record: no index, no expiry, non-object body.
    let plain = Record::new(key("MEMBER#2", "MEMBER"), json!("just text"));
    records.put(plain.clone(), Condition::None).await.unwrap();
    assert_eq!(records.get(&plain.key).await.unwrap(), Some(plain));

    // Overwrite without condition replaces everything, index key included.
    let replaced = Record::new(record.key.clone(), json!({"v": 2})).with_version(8);
    records
        .put(replaced.clone(), Condition::None)
        .await
        .unwrap();
    assert_eq!(records.get(&record.key).await.unwrap(), Some(replaced));
}

pub async fn get_many_in_order(records: &dyn RecordStore) {
    assert_eq!(records.get_many(&[]).await.unwrap(), Vec::new());
    let a = Record::new(key("MEMBER#A", "MEMBER"), json!({"n": 1})).with_index(key("ORG#1", "A"));
    let b = Record::new(key("PROVIDER#B", "PROVIDER"), json!({"n": 2})).with_version(3);
    records.put(a.clone(), Condition::None).await.unwrap();
    records.put(b.clone(), Condition::None).await.unwrap();
    // Order kept, absent keys answered None, a key asked twice answered twice.
    let asked = [
        b.key.clone(),
        key("MEMBER#NONE", "MEMBER"),
        a.key.clone(),
        b.key.clone(),
    ];
    assert_eq!(
        records.get_many(&asked).await.unwrap(),
        vec![Some(b.clone()), None, Some(a.clone()), Some(b.clone())]
    );
    // One key, once or twice, present or not.
    assert_eq!(
        records
            .get_many(std::slice::from_ref(&a.key))
            .await
            .unwrap(),
        vec![Some(a.clone())]
    );
    assert_eq!(
        records
            .get_many(&[b.key.clone(), b.key.clone()])
            .await
            .unwrap(),
        vec![Some(b.clone()), Some(b.clone())]
    );
    assert_eq!(
        records
            .get_many(&[key("MEMBER#NONE", "MEMBER")])
            .await
            .unwrap(),
        vec![None]
    );
    // The most one read takes, all found; one more is refused, reading nothing.
    let mut many: Vec<Key> = (0..99)
        .map(|i| key("MEMBER#NONE", &format!("S{i}")))
        .collect();
    many.push(a.key.clone());
    let found = records.get_many(&many).await.unwrap();
    assert_eq!(found.len(), 100);
    assert_eq!(found[99], Some(a));
    assert!(found[..99].iter().all(Option::is_none));
    many.push(b.key.clone());
    assert!(matches!(
        records.get_many(&many).await,
        Err(StoreError::InvalidInput(_))
    ));
}

/// More keys than one `BatchWriteItem` takes, one named twice and one with no
/// record: each is removed, and nothing else.
pub async fn delete_many_lazy_removes_each(records: &dyn RecordStore) {
    records.delete_many_lazy(&[]).await.unwrap();
    let mut keys = Vec::new();
    for n in 0..30 {
        let record = Record::new(key("OUTBOX#jobs", &format!("E#{n:02}")), json!({"n": n}));
        keys.push(record.key.clone());
        records.put(record, Condition::None).await.unwrap();
    }
    let kept = Record::new(key("OUTBOX#jobs", "E#99"), json!({"n": 99}));
    records.put(kept.clone(), Condition::None).await.unwrap();
    let mut asked = keys.clone();
    asked.push(keys[3].clone());
    asked.push(key("OUTBOX#jobs", "E#NONE"));

    records.delete_many_lazy(&asked).await.unwrap();

    let page = records
        .query(Query::primary("OUTBOX#jobs", ""))
        .await
        .unwrap();
    assert_eq!(page.records, vec![kept.clone()]);
    // One key alone.
    records
        .delete_many_lazy(std::slice::from_ref(&kept.key))
        .await
        .unwrap();
    assert_eq!(records.get(&kept.key).await.unwrap(), None);
}

pub async fn put_absent(records: &dyn RecordStore) {
    let original = Record::new(key("IDEMPOTENCY#x", "IDEMPOTENCY"), json!({"first": true}));
    records
        .put(original.clone(), Condition::Absent)
        .await
        .unwrap();
    let second = Record::new(original.key.clone(), json!({"first": false})).with_version(2);
    assert!(
        is_condition_failed(&records.put(second, Condition::Absent).await),
        "Absent over an existing record"
    );
    assert_eq!(
        records.get(&original.key).await.unwrap(),
        Some(original),
        "a failed put changes nothing"
    );
}

/// Appends (audit events) are readable at once and never overwrite.
pub async fn append_only(records: &dyn RecordStore) {
    let event = Record::new(
        Key::new("AUDIT#2026-11-23", "2026-11-23T17:00:00.000000Z#e1"),
        json!({"action": "read"}),
    )
    .with_index(Key::new(
        "AUDIT#ACTOR#org#u1",
        "2026-11-23T17:00:00.000000Z#e1",
    ));
    records.append(event.clone()).await.unwrap();
    assert_eq!(records.get(&event.key).await.unwrap(), Some(event.clone()));
    let by_actor = records
        .query(Query::gsi1("AUDIT#ACTOR#org#u1", ""))
        .await
        .unwrap();
    assert_eq!(by_actor.records, vec![event.clone()]);

    let mut rewritten = event.clone();
    rewritten.body = json!({"action": "tampered"}).into();
    assert!(matches!(
        records.append(rewritten).await,
        Err(StoreError::ConditionFailed)
    ));
    assert_eq!(records.get(&event.key).await.unwrap(), Some(event));
}

pub async fn put_absent_or_expired(records: &dyn RecordStore) {
    let now = now();
    let k = key("IDEMPOTENCY#ttl", "IDEMPOTENCY");
    // Absent: succeeds.
    let first = Record::new(k.clone(), json!(1)).with_expiry(now - 10);
    records
        .put(first, Condition::AbsentOrExpired { now })
        .await
        .unwrap();
    // Expired (at or before now): succeeds, even though the record is still stored.
    let live = Record::new(k.clone(), json!(2)).with_expiry(now + 1000);
    records
        .put(live.clone(), Condition::AbsentOrExpired { now })
        .await
        .unwrap();
    // Live: fails and leaves it.
    let third = Record::new(k.clone(), json!(3)).with_expiry(now + 2000);
    assert!(is_condition_failed(
        &records.put(third, Condition::AbsentOrExpired { now }).await
    ));
    assert_eq!(records.get(&k).await.unwrap(), Some(live.clone()));
    // Expiry exactly at `now` counts as expired.
    let at_now = Record::new(k.clone(), json!(4)).with_expiry(now + 1000);
    records
        .put(
            at_now.clone(),
            Condition::AbsentOrExpired { now: now + 1000 },
        )
        .await
        .unwrap();
    // A record without expiry never expires.
    let forever = Record::new(key("IDEMPOTENCY#forever", "IDEMPOTENCY"), json!(5));
    records.put(forever.clone(), Condition::None).await.unwrap();
    let over = Record::new(forever.key.clone(), json!(6));
    assert!(is_condition_failed(
        &records
            .put(over, Condition::AbsentOrExpired { now: now + 10_000 })
            .await
    ));
    assert_eq!(records.get(&forever.key).await.unwrap(), Some(forever));
}

pub async fn put_version_is(records: &dyn RecordStore) {
    let k = key("PROVIDER#1", "PROVIDER");
    assert!(
        is_condition_failed(
            &records
                .put(Record::new(k.clone(), json!(0)), Condition::VersionIs(1))
                .await
        ),
        "VersionIs on an absent record"
    );
    records
        .put(Record::new(k.clone(), json!("v1")), Condition::Absent)
        .await
        .unwrap();
    let v2 = Record::new(k.clone(), json!("v2")).with_version(2);
    records
        .put(v2.clone(), Condition::VersionIs(1))
        .await
        .unwrap();
    let stale = Record::new(k.clone(), json!("stale")).with_version(2);
    assert!(
        is_condition_failed(&records.put(stale, Condition::VersionIs(1)).await),
        "stale version"
    );
    assert_eq!(records.get(&k).await.unwrap(), Some(v2));
}

/// A refused put answers the record that refused it, whole (version, expiry,
/// index and body), and leaves it; a written one is readable at once.
pub async fn put_lazy_or_get(records: &dyn RecordStore) {
    let now = now();
    let k = key("IDEMPOTENCY#claim", "IDEMPOTENCY");
    let held = Record::new(k.clone(), json!({"state": "in_progress", "n": 1}))
        .with_index(key("CLAIMIDX", "1"))
        .with_expiry(now + 1000);
    assert_eq!(
        records
            .put_lazy_or_get(held.clone(), Condition::AbsentOrExpired { now })
            .await
            .unwrap(),
        PutOutcome::Written
    );
    assert_eq!(records.get(&k).await.unwrap(), Some(held.clone()));
    let other =
        Record::new(k.clone(), json!({"state": "in_progress", "n": 2})).with_expiry(now + 2000);
    assert_eq!(
        records
            .put_lazy_or_get(other.clone(), Condition::AbsentOrExpired { now })
            .await
            .unwrap(),
        PutOutcome::Refused(Some(held.clone()))
    );
    assert_eq!(records.get(&k).await.unwrap(), Some(held.clone()));
    // Refused with nothing there: a version condition on an absent record.
    let absent = Record::new(key("IDEMPOTENCY#none", "IDEMPOTENCY"), json!(0)).with_version(2);
    assert_eq!(
        records
            .put_lazy_or_get(absent.clone(), Condition::VersionIs(1))
            .await
            .unwrap(),
        PutOutcome::Refused(None)
    );
    assert_eq!(records.get(&absent.key).await.unwrap(), None);
    // Expired: taken over.
    assert_eq!(
        records
            .put_lazy_or_get(
                other.clone(),
                Condition::AbsentOrExpired { now: now + 1000 }
            )
            .await
            .unwrap(),
        PutOutcome::Written
    );
    assert_eq!(records.get(&k).await.unwrap(), Some(other));
}

pub async fn transact_all_or_nothing(records: &dyn RecordStore) {
    let a = Record::new(key("T#A", "A"), json!("a")).with_index(key("TIDX", "A"));
    records.put(a.clone(), Condition::None).await.unwrap();
    let b = Record::new(key("T#B", "B"), json!("b")).with_index(key("TIDX", "B"));
    let c = Record::new(key("T#C", "C"), json!("c"));

    // A failing Check: nothing is written.
    let result = records
        .transact(vec![
            WriteOp::Put {
                record: b.clone(),
                condition: Condition::Absent,
            },
            WriteOp::Put {
                record: c.clone(),
                condition: Condition::None,
            },
            WriteOp::Check {
                key: a.key.clone(),
                condition: Condition::VersionIs(2),
            },
        ])
        .await;
    assert!(
        is_condition_failed(&result),
        "failed check fails the transaction: {result:?}"
    );
    assert_eq!(
        records.get(&b.key).await.unwrap(),
        None,
        "nothing written by a failed transaction"
    );
    assert_eq!(
        records.get(&c.key).await.unwrap(),
        None,
        "nothing written by a failed transaction"
    );
    let index = records.query(Query::gsi1("TIDX", "")).await.unwrap();
    assert_eq!(
        index.records,
        vec![a.clone()],
        "the index saw nothing either"
    );

    // Every condition holds: all applied.
    records
        .transact(vec![
            WriteOp::Put {
                record: b.clone(),
                condition: Condition::Absent,
            },
            WriteOp::Delete {
                key: a.key.clone(),
                condition: Condition::VersionIs(1),
            },
            WriteOp::Check {
                key: key("T#D", "D"),
                condition: Condition::Absent,
            },
        ])
        .await
        .unwrap();
    assert_eq!(records.get(&b.key).await.unwrap(), Some(b.clone()));
    assert_eq!(records.get(&a.key).await.unwrap(), None);
    let index = records.query(Query::gsi1("TIDX", "")).await.unwrap();
    assert_eq!(
        index.records,
        vec![b.clone()],
        "delete removed the index entry, put added one"
    );

    // A failing Put condition: the other put is not written.
    let e = Record::new(key("T#E", "E"), json!("e"));
    let result = records
        .transact(vec![
            WriteOp::Put {
                record: e.clone(),
                condition: Condition::Absent,
            },
            WriteOp::Put {
                record: b.clone(),
                condition: Condition::Absent,
            },
        ])
        .await;
    assert!(is_condition_failed(&result));
    assert_eq!(records.get(&e.key).await.unwrap(), None);

    // A failing Delete condition.
    let result = records
        .transact(vec![
            WriteOp::Put {
                record: e.clone(),
                condition: Condition::None,
            },
            WriteOp::Delete {
                key: b.key.clone(),
                condition: Condition::VersionIs(9),
            },
        ])
        .await;
    assert!(is_condition_failed(&result));
    assert_eq!(records.get(&e.key).await.unwrap(), None);
    assert_eq!(records.get(&b.key).await.unwrap(), Some(b));

    // More than 100 operations is refused outright (not a condition failure).
    let many = (0..101)
        .map(|i| WriteOp::Put {
            record: Record::new(key("T#MANY", &format!("{i:03}")), json!(i)),
            condition: Condition::None,
        })
        .collect();
    let result = records.transact(many).await;
    assert!(
        matches!(result, Err(StoreError::InvalidInput(_))),
        "101 operations: {result:?}"
    );
    assert_eq!(
        records
            .query(Query::primary("T#MANY", ""))
            .await
            .unwrap()
            .records,
        vec![]
    );
}

/// A transaction of one write (which an adapter may send as that write alone)
/// keeps its condition and the index.
pub async fn transact_of_one_write(records: &dyn RecordStore) {
    let a = Record::new(key("T1#A", "A"), json!("a")).with_index(key("T1IDX", "A"));
    let put = |record: &Record, condition| {
        vec![WriteOp::Put {
            record: record.clone(),
            condition,
        }]
    };
    let delete = |record: &Record, condition| {
        vec![WriteOp::Delete {
            key: record.key.clone(),
            condition,
        }]
    };
    records.transact(put(&a, Condition::Absent)).await.unwrap();
    assert_eq!(records.get(&a.key).await.unwrap(), Some(a.clone()));
    let replaced = Record::new(a.key.clone(), json!("a2"))
        .with_index(key("T1IDX", "A"))
        .with_version(2);
    assert!(is_condition_failed(
        &records.transact(put(&replaced, Condition::Absent)).await
    ));
    assert!(is_condition_failed(
        &records
            .transact(put(&replaced, Condition::VersionIs(2)))
            .await
    ));
    assert!(is_condition_failed(
        &records.transact(delete(&a, Condition::VersionIs(2))).await
    ));
    assert_eq!(records.get(&a.key).await.unwrap(), Some(a.clone()));
    records
        .transact(put(&replaced, Condition::VersionIs(1)))
        .await
        .unwrap();
    assert_eq!(records.get(&a.key).await.unwrap(), Some(replaced.clone()));
    let index = records.query(Query::gsi1("T1IDX", "")).await.unwrap();
    assert_eq!(index.records, vec![replaced.clone()]);
    records
        .transact(delete(&replaced, Condition::VersionIs(2)))
        .await
        .unwrap();
    assert_eq!(records.get(&a.key).await.unwrap(), None);
    let index = records.query(Query::gsi1("T1IDX", "")).await.unwrap();
    assert_eq!(index.records, vec![], "the delete removed the index entry");
    // Deleting what is not there, unconditionally, is done.
    records
        .transact(delete(&replaced, Condition::None))
        .await
        .unwrap();
    // A lone check still judges.
    let check = |condition| {
        vec![WriteOp::Check {
            key: a.key.clone(),
            condition,
        }]
    };
    records.transact(check(Condition::Absent)).await.unwrap();
    assert!(is_condition_failed(
        &records.transact(check(Condition::VersionIs(1))).await
    ));
}

pub async fn empty_keys_are_refused(records: &dyn RecordStore) {
    // DynamoDB refuses empty key attributes; the embedded store does too.
    for record in [
        Record::new(key("P", ""), json!(1)),
        Record::new(key("", "S"), json!(1)),
        Record::new(key("P", "S"), json!(1)).with_index(key("G", "")),
    ] {
        let result = records.put(record, Condition::None).await;
        assert!(
            matches!(result, Err(StoreError::Backend { .. })),
            "{result:?}"
        );
    }
    assert_eq!(records.get(&key("P", "S")).await.unwrap(), None);
}

async fn put_all(records: &dyn RecordStore, all: &[Record]) {
    for record in all {
        records.put(record.clone(), Condition::None).await.unwrap();
    }
}

fn sort_keys(page: &[Record]) -> Vec<&str> {
    page.iter().map(|r| r.key.sk.as_str()).collect()
}

pub async fn query_primary(records: &dyn RecordStore) {
    let pk = "AUDIT#2024";
    // Inserted out of order, with neighbours that must not show up.
    let all: Vec<Record> = [
        "2024-01-03#b",
        "2024-01-01#a",
        "2024-02-01#c",
        "2023-12-31#z",
        "2024-01-02#d",
    ]
    .iter()
    .map(|sk| Record::new(key(pk, sk), json!({"sk": sk})))
    .chain([Record::new(
        key("AUDIT#2024X", "2024-01-01#other-partition"),
        json!(0),
    )])
    .chain([Record::new(
        key("AUDIT#202", "2024-01-01#prefix-partition"),
        json!(0),
    )])
    .collect();
    put_all(records, &all).await;

    let page = records.query(Query::primary(pk, "2024-01")).await.unwrap();
    assert_eq!(
        sort_keys(&page.records),
        ["2024-01-01#a", "2024-01-02#d", "2024-01-03#b"]
    );
    assert_eq!(page.records[0].body, json!({"sk": "2024-01-01#a"}));
    assert_eq!(page.next, None);

    let page = records
        .query(Query::primary(pk, "2024-01").descending())
        .await
        .unwrap();
    assert_eq!(
        sort_keys(&page.records),
        ["2024-01-03#b", "2024-01-02#d", "2024-01-01#a"]
    );

    let page = records.query(Query::primary(pk, "")).await.unwrap();
    assert_eq!(
        sort_keys(&page.records),
        [
            "2023-12-31#z",
            "2024-01-01#a",
            "2024-01-02#d",
            "2024-01-03#b",
            "2024-02-01#c"
        ],
        "empty prefix: the whole partition, and only it"
    );

    let page = records.query(Query::primary(pk, "2025")).await.unwrap();
    assert!(page.records.is_empty() && page.next.is_none());
    let page = records
        .query(Query::primary("AUDIT#none", ""))
        .await
        .unwrap();
    assert!(page.records.is_empty() && page.next.is_none());
}

pub async fn query_gsi1(records: &dyn RecordStore) {
    // Providers of two organisations; one record moves between them.
    let provider = |npi: &str, org: &str| {
        Record::new(
            key(&format!("PROVIDER#{npi}"), "PROVIDER"),
            json!({"npi": npi}),
        )
        .with_index(key(&format!("ORG#{org}"), &format!("PROVIDER#{npi}")))
    };
    let all = [
        provider("3", "A"),
        provider("1", "A"),
        provider("2", "A"),
        provider("9", "B"),
    ];
    put_all(records, &all).await;
    // Not indexed at all.
    records
        .put(
            Record::new(key("PROVIDER#0", "PROVIDER"), json!({})),
            Condition::None,
        )
        .await
        .unwrap();

    let page = records
        .query(Query::gsi1("ORG#A", "PROVIDER#"))
        .await
        .unwrap();
    let pks: Vec<&str> = page.records.iter().map(|r| r.key.pk.as_str()).collect();
    assert_eq!(pks, ["PROVIDER#1", "PROVIDER#2", "PROVIDER#3"]);
    assert_eq!(
        page.records[0], all[1],
        "the whole record comes back (projection ALL)"
    );

    let page = records
        .query(Query::gsi1("ORG#A", "PROVIDER#").descending())
        .await
        .unwrap();
    let pks: Vec<&str> = page.records.iter().map(|r| r.key.pk.as_str()).collect();
    assert_eq!(pks, ["PROVIDER#3", "PROVIDER#2", "PROVIDER#1"]);

    let page = records
        .query(Query::gsi1("ORG#A", "PROVIDER#2"))
        .await
        .unwrap();
    assert_eq!(page.records.len(), 1);

    // Moving provider 2 to org B moves its index entry.
    records
        .put(provider("2", "B").with_version(2), Condition::VersionIs(1))
        .await
        .unwrap();
    let a = records.query(Query::gsi1("ORG#A", "")).await.unwrap();
    let b = records.query(Query::gsi1("ORG#B", "")).await.unwrap();
    assert_eq!(a.records.len(), 2, "old index entry removed on overwrite");
    assert_eq!(b.records.len(), 2, "new index entry added on overwrite");

    // Dropping the index key drops the entry.
    records
        .put(
            Record::new(key("PROVIDER#9", "PROVIDER"), json!({})),
            Condition::None,
        )
        .await
        .unwrap();
    let b = records.query(Query::gsi1("ORG#B", "")).await.unwrap();
    assert_eq!(
        b.records
            .iter()
            .map(|r| r.key.pk.as_str())
            .collect::<Vec<_>>(),
        ["PROVIDER#2"]
    );
}

/// Reads every page of `query`, checking page sizes; returns the records in order.
async fn read_all_pages(records: &dyn RecordStore, query: Query) -> Vec<Record> {
    let limit = query.limit;
    let mut all = Vec::new();
    let mut cursor = None;
    for _ in 0..50 {
        let page = records.query(query.clone().after(cursor)).await.unwrap();
        assert!(page.records.len() <= limit, "page larger than the limit");
        all.extend(page.records);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return all,
        }
    }
    panic!("paging did not end");
}

pub async fn query_paging(records: &dyn RecordStore) {
    // 7 audit events of one day and one actor, 2 sharing an index sort key, and
    // neighbours outside the prefix.
    let mut all = Vec::new();
    for i in 0..7 {
        let at = format!("2024-03-01T10:00:0{}Z", i.min(5));
        let id = format!("e{i}");
        all.push(
            Record::new(
                mso_store::keys::audit_event("2024-03-01", &at, &id),
                json!({"i": i}),
            )
            .with_index(mso_store::keys::audit_by_actor("org", "sub", &at, &id)),
        );
    }
    all.push(Record::new(
        key("AUDIT#2024-03-01", "1999#x"),
        json!("before"),
    ));
    all.push(Record::new(
        key("AUDIT#2024-03-01", "3000#x"),
        json!("after"),
    ));
    put_all(records, &all).await;
    let expected: Vec<Record> = all[..7].to_vec();

    for limit in [1, 3, 7, 100] {
        let asc = read_all_pages(
            records,
            Query::primary("AUDIT#2024-03-01", "2024-").limit(limit),
        )
        .await;
        assert_eq!(asc, expected, "primary ascending, limit {limit}");
        let desc = read_all_pages(
            records,
            Query::primary("AUDIT#2024-03-01", "2024-")
                .limit(limit)
                .descending(),
        )
        .await;
        assert_eq!(
            desc,
            expected.iter().rev().cloned().collect::<Vec<_>>(),
            "primary descending, limit {limit}"
        );

        let partition = mso_store::keys::audit_actor_partition("org", "sub");
        let asc =
            read_all_pages(records, Query::gsi1(&partition, "2024-03-01T").limit(limit)).await;
        assert_eq!(
            asc.len(),
            7,
            "gsi1 ascending, limit {limit}: every record once"
        );
        assert_eq!(
            asc.iter().map(|r| &r.key).collect::<BTreeSet<_>>().len(),
            7,
            "no duplicates"
        );
        assert!(
            asc.windows(2).all(|w| w[0].index_key <= w[1].index_key),
            "gsi1 ascending order"
        );
        let desc = read_all_pages(
            records,
            Query::gsi1(&partition, "2024-03-01T")
                .limit(limit)
                .descending(),
        )
        .await;
        assert_eq!(desc.len(), 7, "gsi1 descending, limit {limit}");
        assert!(
            desc.windows(2).all(|w| w[0].index_key >= w[1].index_key),
            "gsi1 descending order"
        );
        assert_eq!(
            desc.iter().map(|r| &r.key).collect::<BTreeSet<_>>().len(),
            7
        );
    }

    let first = records
        .query(Query::primary("AUDIT#2024-03-01", "2024-").limit(3))
        .await
        .unwrap();
    assert_eq!(first.records, expected[..3].to_vec());
    assert!(
        first.next.is_some(),
        "a full page with more to come has a cursor"
    );
}

/// Sort-key ranges (`BETWEEN`, both ends included), on the table and on gsi1,
/// paged both ways.
pub async fn query_between(records: &dyn RecordStore) {
    let days = [
        "2026-11-01",
        "2026-11-02",
        "2026-11-03",
        "2026-11-04",
        "2026-11-05",
    ];
    let all: Vec<Record> = days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            Record::new(key("LIST#A", &format!("{d}T10:00:00Z#PA-{i}")), json!(i))
                .with_index(key("GLIST#A", &format!("{d}#{i}")))
        })
        .collect();
    put_all(records, &all).await;
    let sks = |rs: &[Record]| {
        rs.iter()
            .map(|r| r.body.decode::<i64>().unwrap())
            .collect::<Vec<_>>()
    };
    for limit in [1, 2, 10] {
        let got = read_all_pages(
            records,
            Query::between("LIST#A", "2026-11-02", "2026-11-04T~").limit(limit),
        )
        .await;
        assert_eq!(sks(&got), [1, 2, 3], "limit {limit}");
        let desc = read_all_pages(
            records,
            Query::between("LIST#A", "2026-11-02", "2026-11-04T~")
                .limit(limit)
                .descending(),
        )
        .await;
        assert_eq!(sks(&desc), [3, 2, 1], "descending, limit {limit}");
        let gsi = read_all_pages(
            records,
            Query::gsi1_between("GLIST#A", "2026-11-02", "2026-11-04#9").limit(limit),
        )
        .await;
        assert_eq!(sks(&gsi), [1, 2, 3], "gsi1, limit {limit}");
    }
    // A range open at the start (a list with only a `to` filter, or none):
    // DynamoDB refuses an empty key value, so the adapter must not send one.
    let open = read_all_pages(
        records,
        Query::between("LIST#A", "", "2026-11-02T~").descending(),
    )
    .await;
    assert_eq!(sks(&open), [1, 0]);
    let whole = read_all_pages(records, Query::between("LIST#A", "", "~")).await;
    assert_eq!(sks(&whole), [0, 1, 2, 3, 4]);
    // Both ends are included.
    let exact = records
        .query(Query::between(
            "LIST#A",
            "2026-11-01T10:00:00Z#PA-0",
            "2026-11-01T10:00:00Z#PA-0",
        ))
        .await
        .unwrap();
    assert_eq!(sks(&exact.records), [0]);
    let gsi_exact = records
        .query(Query::gsi1_between(
            "GLIST#A",
            "2026-11-05#4",
            "2026-11-05#4",
        ))
        .await
        .unwrap();
    assert_eq!(sks(&gsi_exact.records), [4]);
    let none = records
        .query(Query::between("LIST#A", "2026-12", "2026-12~"))
        .await
        .unwrap();
    assert!(none.records.is_empty() && none.next.is_none());
    // An open lower end ("everything due by then", as the sweepers and the
    // outbox relay ask): DynamoDB refuses an empty string in BETWEEN.
    let due = read_all_pages(
        records,
        Query::between("LIST#A", "", "2026-11-02T~").limit(1),
    )
    .await;
    assert_eq!(sks(&due), [0, 1]);
}

/// Cursors are sealed: they show no key, and a tampered, made-up or foreign one
/// is refused as the caller's mistake (a 400 at the edge), not a storage failure.
pub async fn query_cursors_are_sealed(records: &dyn RecordStore) {
    let all: Vec<Record> = (0..4)
        .map(|i| Record::new(key("MEMBER#SUN100001", &format!("SPAN#{i}")), json!(i)))
        .collect();
    put_all(records, &all).await;
    let query = Query::primary("MEMBER#SUN100001", "SPAN#").limit(2);
    let next = records.query(query.clone()).await.unwrap().next.unwrap();
    assert!(
        !next.contains("MEMBER") && !next.contains("SUN100001") && !next.contains("SPAN"),
        "{next}"
    );
    let plain = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        br#"{"pk":"MEMBER#SUN100002","sk":"SPAN#0"}"#,
    );
    let mut tampered = next.clone();
    tampered.insert(5, 'A');
    for bad in [
        plain.as_str(),
        tampered.as_str(),
        "!!!",
        "",
        &"A".repeat(6000),
    ] {
        let result = records
            .query(query.clone().after(Some(bad.to_string())))
            .await;
        assert!(
            matches!(result, Err(StoreError::InvalidInput(_))),
            "{bad:?}: {result:?}"
        );
    }
    // A cursor of one partition does not page another.
    let other = Query::primary("MEMBER#SUN100002", "SPAN#").limit(2);
    let result = records.query(other.after(Some(next.clone()))).await;
    assert!(
        matches!(result, Err(StoreError::InvalidInput(_))),
        "{result:?}"
    );
    // And the real one still works.
    let second = records.query(query.after(Some(next))).await.unwrap();
    assert_eq!(second.records, all[2..].to_vec());
}

// ------------------------------------------------------------- documents

pub async fn documents_crud(documents: &dyn DocumentStore) {
    assert_eq!(documents.get("claims/none.pdf").await.unwrap(), None);
    assert_eq!(documents.head("claims/none.pdf").await.unwrap(), None);

    let k = "claims/2024/claim 1.pdf";
    documents
        .put(k, "application/pdf", Bytes::from_static(b"%PDF-1.7 hello"))
        .await
        .unwrap();
    let meta = documents.head(k).await.unwrap().expect("head after put");
    assert_eq!(meta.key, k);
    assert_eq!(meta.size, 14);
    assert_eq!(meta.content_type.as_deref(), Some("application/pdf"));
    let (meta, bytes) = documents.get(k).await.unwrap().expect("get after put");
    assert_eq!(bytes, Bytes::from_static(b"%PDF-1.7 hello"));
    assert_eq!(meta.size, 14);
    assert_eq!(meta.content_type.as_deref(), Some("application/pdf"));

    // Overwrite, including an empty object.
    documents.put(k, "text/plain", Bytes::new()).await.unwrap();
    let (meta, bytes) = documents.get(k).await.unwrap().unwrap();
    assert!(bytes.is_empty());
    assert_eq!(
        (meta.size, meta.content_type.as_deref()),
        (0, Some("text/plain"))
    );

    documents.delete(k).await.unwrap();
    assert_eq!(documents.get(k).await.unwrap(), None);
    assert_eq!(documents.head(k).await.unwrap(), None);
    documents.delete(k).await.unwrap();
    documents.delete("never/there").await.unwrap();

    // A key that was a "directory" of a deleted key is usable afterwards.
    documents
        .put("claims/2024", "text/plain", Bytes::from_static(b"x"))
        .await
        .unwrap();
    assert_eq!(
        documents.get("claims/2024").await.unwrap().unwrap().1,
        Bytes::from_static(b"x")
    );
}

/// A conditional write creates, and never replaces: not the object it
/// created, nor one a plain put wrote; after a delete it creates again.
pub async fn put_if_absent_never_replaces(documents: &dyn DocumentStore) {
    let k = "acks/CF-1/999.x12";
    let first = Bytes::from_static(b"ISA*first~");
    assert!(
        documents
            .put_if_absent(k, "application/edi-x12", first.clone())
            .await
            .unwrap(),
        "an absent key is written"
    );
    let (meta, bytes) = documents.get(k).await.unwrap().unwrap();
    assert_eq!(bytes, first);
    assert_eq!(meta.content_type.as_deref(), Some("application/edi-x12"));
    assert!(
        !documents
            .put_if_absent(k, "text/plain", Bytes::from_static(b"second"))
            .await
            .unwrap(),
        "a key with an object is refused"
    );
    let (meta, bytes) = documents.get(k).await.unwrap().unwrap();
    assert_eq!(
        (bytes, meta.content_type.as_deref()),
        (first, Some("application/edi-x12"))
    );

    let plain = "acks/CF-2/999.json";
    documents
        .put(plain, "application/json", Bytes::from_static(b"[]"))
        .await
        .unwrap();
    assert!(
        !documents
            .put_if_absent(plain, "application/json", Bytes::from_static(b"[1]"))
            .await
            .unwrap()
    );
    assert_eq!(
        documents.get(plain).await.unwrap().unwrap().1,
        Bytes::from_static(b"[]")
    );

    documents.delete(k).await.unwrap();
    assert!(
        documents
            .put_if_absent(k, "application/edi-x12", Bytes::from_static(b"again"))
            .await
            .unwrap()
    );
    assert_eq!(
        documents.get(k).await.unwrap().unwrap().1,
        Bytes::from_static(b"again")
    );
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// Sends `request` with exactly its headers and `body`.
pub async fn send_presigned(
    request: &mso_store::PresignedRequest,
    body: Bytes,
) -> reqwest::Response {
    let mut builder = http().request(request.method.clone(), &request.url);
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    builder.body(body).send().await.unwrap()
}

pub async fn presigned_put_then_get(documents: &dyn DocumentStore) {
    let body = Bytes::from_static(b"member_id,name\n1,Ada\n");
    let k = "uploads/roster 2024+1.csv";
    let request = documents
        .presign_put(k, "text/csv", body.len() as u64, Duration::from_secs(300))
        .await
        .unwrap();
    assert_eq!(request.method, http::Method::PUT);
    assert!(request.expires_at > now() && request.expires_at <= now() + 301);
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(
        header("content-type"),
        Some("text/csv"),
        "headers: {:?}",
        request.headers
    );
    assert_eq!(
        header("if-none-match"),
        Some("*"),
        "create only: {:?}",
        request.headers
    );
    let response = send_presigned(&request, body.clone()).await;
    assert!(
        response.status().is_success(),
        "presigned PUT: {}",
        response.status()
    );
    let (meta, bytes) = documents
        .get(k)
        .await
        .unwrap()
        .expect("object after presigned PUT");
    assert_eq!(bytes, body);
    assert_eq!(meta.content_type.as_deref(), Some("text/csv"));
}

/// A URL still valid after its upload cannot replace what was uploaded (and,
/// for documents, verified): the second PUT is 412 and the first bytes stay.
pub async fn presigned_put_never_replaces(documents: &dyn DocumentStore) {
    let k = "documents/DOC-0000000001.pdf";
    let request = documents
        .presign_put(k, "application/pdf", 5, Duration::from_secs(300))
        .await
        .unwrap();
    let first = send_presigned(&request, Bytes::from_static(b"first")).await;
    assert!(first.status().is_success(), "first PUT: {}", first.status());
    let again = send_presigned(&request, Bytes::from_static(b"other")).await;
    assert_eq!(again.status(), http::StatusCode::PRECONDITION_FAILED);
    assert_eq!(
        documents.get(k).await.unwrap().unwrap().1,
        Bytes::from_static(b"first")
    );
    // Nor does a second URL for the same key.
    let second = documents
        .presign_put(k, "application/pdf", 5, Duration::from_secs(300))
        .await
        .unwrap();
    let replaced = send_presigned(&second, Bytes::from_static(b"other")).await;
    assert_eq!(replaced.status(), http::StatusCode::PRECONDITION_FAILED);
    assert_eq!(
        documents.get(k).await.unwrap().unwrap().1,
        Bytes::from_static(b"first")
    );
}

pub async fn presigned_get(documents: &dyn DocumentStore) {
    let body = Bytes::from_static(b"\x00\x01binary\xff");
    documents
        .put("out/report.bin", "application/octet-stream", body.clone())
        .await
        .unwrap();
    let request = documents
        .presign_get("out/report.bin", Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(request.method, http::Method::GET);
    let response = send_presigned(&request, Bytes::new()).await;
    assert!(
        response.status().is_success(),
        "presigned GET: {}",
        response.status()
    );
    // A download, never cached and never rendered in the browser: the server
    // says so, or (S3, whose emulator ignores them) the URL carries the signed
    // response overrides that S3 honours.
    let url = reqwest::Url::parse(&request.url).unwrap();
    let said = |name: &str, expected: &str| {
        let header = response.headers().get(name).and_then(|v| v.to_str().ok());
        let signed = url
            .query_pairs()
            .find(|(k, _)| k.eq_ignore_ascii_case(&format!("response-{name}")))
            .map(|(_, v)| v.into_owned());
        assert!(
            header == Some(expected) || signed.as_deref() == Some(expected),
            "{name}: header {header:?}, signed override {signed:?}"
        );
    };
    said("content-disposition", "attachment; filename=\"report.bin\"");
    said("cache-control", "no-store");
    assert_eq!(response.bytes().await.unwrap(), body);
}

// ---------------------------------------------------------------- queues

fn options(visibility: Duration) -> ReceiveOptions {
    ReceiveOptions {
        max_messages: 10,
        visibility_timeout: visibility,
        wait: Duration::ZERO,
    }
}

/// A receive that finds no message ready on `JOBS`.
async fn assert_nothing_to_receive(queue: &dyn WorkQueue, why: &str) {
    let messages = queue
        .receive(JOBS, options(Duration::from_secs(1)))
        .await
        .unwrap();
    assert!(messages.is_empty(), "{why}");
}

/// Receives until something arrives (SQS short polls may come back empty).
pub async fn receive_some(
    queue: &dyn WorkQueue,
    name: &str,
    visibility: Duration,
) -> Vec<QueueMessage> {
    for _ in 0..30 {
        let messages = queue.receive(name, options(visibility)).await.unwrap();
        if !messages.is_empty() {
            return messages;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no message arrived on {name} within 3 s");
}

pub async fn queue_send_receive_delete(queue: &dyn WorkQueue) {
    assert_nothing_to_receive(queue, "new queue is empty").await;
    let id = queue
        .send(JOBS, r#"{"claim":"c-1"}"#, "claim-c-1")
        .await
        .unwrap();
    let messages = receive_some(queue, JOBS, Duration::from_secs(1)).await;
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(
        (m.id.as_str(), m.body.as_str(), m.receive_count),
        (id.as_str(), r#"{"claim":"c-1"}"#, 1)
    );
    queue.delete(JOBS, &m.receipt).await.unwrap();
    // Deleted: it never comes back, not even after its visibility timeout.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_nothing_to_receive(queue, "deleted message returned").await;
}

pub async fn queue_wait_for_message(queue: &dyn WorkQueue) {
    let start = std::time::Instant::now();
    let wait = ReceiveOptions {
        max_messages: 1,
        visibility_timeout: Duration::from_secs(5),
        wait: Duration::from_secs(1),
    };
    assert!(queue.receive(JOBS, wait).await.unwrap().is_empty());
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "a receive with wait waits: {:?}",
        start.elapsed()
    );
    queue.send(JOBS, "hi", "w-1").await.unwrap();
    let wait = ReceiveOptions {
        wait: Duration::from_secs(2),
        ..wait
    };
    assert_eq!(queue.receive(JOBS, wait).await.unwrap().len(), 1);
}

pub async fn queue_visibility_timeout(queue: &dyn WorkQueue) {
    queue.send(JOBS, "retry me", "v-1").await.unwrap();
    let first = receive_some(queue, JOBS, Duration::from_secs(1)).await;
    assert_eq!(first[0].receive_count, 1);
    assert_nothing_to_receive(queue, "invisible while in flight").await;

    tokio::time::sleep(Duration::from_millis(1300)).await;
    let second = receive_some(queue, JOBS, Duration::from_secs(1)).await;
    assert_eq!(second.len(), 1);
    assert_eq!(
        (second[0].body.as_str(), second[0].receive_count),
        ("retry me", 2),
        "back after the timeout"
    );
    assert_eq!(second[0].id, first[0].id);
    assert_ne!(
        second[0].receipt, first[0].receipt,
        "each receive has a fresh receipt"
    );

    // Whether the first (stale) receipt could still delete it differs: SQS (and
    // moto) accept any receipt the message ever had; the embedded queue does not
    // (tests/embedded.rs, `a_stale_receipt_does_not_delete`).
    queue.delete(JOBS, &second[0].receipt).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_nothing_to_receive(queue, "deleted message returned").await;
}

pub async fn queue_dead_letter(queue: &dyn WorkQueue) {
    queue.send(JOBS, "poison", "p-1").await.unwrap();
    for expected in 1..=MAX_RECEIVE_COUNT {
        // A zero visibility timeout makes the message receivable again at once.
        let messages = receive_some(queue, JOBS, Duration::ZERO).await;
        assert_eq!(
            (messages[0].body.as_str(), messages[0].receive_count),
            ("poison", expected)
        );
    }
    // The next receive moves it to the dead-letter queue instead of delivering it.
    for _ in 0..3 {
        let again = queue.receive(JOBS, options(Duration::ZERO)).await.unwrap();
        assert!(
            again.is_empty(),
            "delivered past the maximum receive count: {again:?}"
        );
    }
    let dead = receive_some(queue, JOBS_DLQ, Duration::from_secs(30)).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body, "poison");
    queue.delete(JOBS_DLQ, &dead[0].receipt).await.unwrap();
}

/// `name` must be a de-duplicating queue (FIFO on SQS).
/// More messages than one request takes, sent at once: each is sent, and of two
/// that share a de-duplication id one is delivered (the batches race, so either).
pub async fn queue_send_many(queue: &dyn WorkQueue, name: &str) {
    assert!(queue.send_many_lazy(name, &[]).await.is_empty());
    let bodies: Vec<String> = (0..23).map(|n| format!(r#"{{"n":{n}}}"#)).collect();
    let ids: Vec<String> = (0..23).map(|n| format!("event-{}", n % 22)).collect();
    let messages: Vec<Outgoing<'_>> = bodies
        .iter()
        .zip(&ids)
        .map(|(body, dedup_id)| Outgoing { body, dedup_id })
        .collect();

    let outcomes = queue.send_many_lazy(name, &messages).await;

    assert_eq!(outcomes.len(), 23);
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    let mut received = BTreeSet::new();
    for _ in 0..30 {
        let batch = queue
            .receive(name, options(Duration::from_secs(30)))
            .await
            .unwrap();
        received.extend(batch.into_iter().map(|m| m.body));
        if received.len() >= 22 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Batches go out at once, so either message with the repeated id may be
    // the one kept: exactly one of them, and every other message once.
    let first_or_last = [&bodies[0], &bodies[22]].map(|body| received.contains(body));
    assert_eq!(
        first_or_last.iter().filter(|kept| **kept).count(),
        1,
        "the repeated id is delivered once: {received:?}"
    );
    let others: BTreeSet<String> = bodies[1..22].iter().cloned().collect();
    assert!(
        received.is_superset(&others),
        "each sent once: {received:?}"
    );
    assert_eq!(received.len(), 22, "nothing else delivered: {received:?}");
}

pub async fn queue_dedup(queue: &dyn WorkQueue, name: &str) {
    queue.send(name, "first", "same-id").await.unwrap();
    queue.send(name, "second", "same-id").await.unwrap();
    queue.send(name, "other", "other-id").await.unwrap();
    let mut bodies = Vec::new();
    for _ in 0..10 {
        let messages = queue
            .receive(name, options(Duration::from_secs(30)))
            .await
            .unwrap();
        bodies.extend(messages.into_iter().map(|m| m.body));
        if bodies.len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bodies.sort();
    assert_eq!(
        bodies,
        ["first", "other"],
        "a repeated dedup id is delivered once"
    );
}
