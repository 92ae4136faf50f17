//! Disputes on the embedded store: the transaction's rows and events, the
//! open-dispute guard, and the re-adjudication message of an overturned payment
//! dispute on a claim (claims are not stored yet, so the dispute is built here
//! as the claims job's subject resolution will build it).

use jiff::Timestamp;
use mso_domain::disputes::review::{self, Decision, Filed};
use mso_domain::disputes::{
    Channel, Dispute, Filing, Kind, Outcome, ReasonCategory, Request, Subject, SubjectRef, accept,
};
use mso_domain::ids::{MemberId, OrgId, ReferenceId};
use mso_domain::money::Money;
use mso_domain::prior_auth::{Actor, Contact};
use mso_records::Ports;
use mso_records::disputes::{self, CLAIM_READJUDICATION, Change, DISPUTE_EVENTS};
use mso_store::embedded::Embedded;
use mso_store::{ReceiveOptions, RecordStore, StoreError, WorkQueue};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn pdr_on_claim(id: &str, now: Timestamp) -> Dispute {
    let policy = mso_api::policies::load("sunrise").unwrap();
    let request = Request {
        kind: Kind::Pdr,
        subject: SubjectRef::Claim(ReferenceId::parse("CLM-7K3Q9M2P4X").unwrap()),
        reason_category: ReasonCategory::Underpayment,
        reason: "Paid below the contract rate".into(),
        amount_disputed: Some(Money::from_cents(12_500)),
        remittance_date: Some("2026-02-20".parse().unwrap()),
        expedited: false,
        contact: Contact {
            name: "Billing".into(),
            phone: "657-555-0199".into(),
            extension: None,
            fax: None,
            email: None,
        },
    };
    let filing = Filing {
        kind: Kind::Pdr,
        reason_category: request.reason_category,
        subject: Subject::Claim {
            last_determination: Some("2026-02-18".parse().unwrap()),
            medical_necessity_denial: false,
        },
        amount_disputed: request.amount_disputed,
        remittance_date: request.remittance_date,
        expedited: false,
        channel: Channel::Electronic,
        received_at: now,
    };
    let clocks = accept(&filing, &policy).unwrap();
    Dispute::filed(
        Filed {
            id: ReferenceId::parse(id).unwrap(),
            org: OrgId::parse("sunrise-family-medicine").unwrap(),
            member_id: MemberId::parse("SUN100001").unwrap(),
            health_plan: "Golden State Health Plan".into(),
            request,
            filing,
            clocks,
            intake_item_id: None,
        },
        Actor::system(),
        now,
        &policy,
    )
}

async fn drain(queue: &dyn WorkQueue, name: &str) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    loop {
        let got = queue
            .receive(name, ReceiveOptions::default())
            .await
            .unwrap();
        if got.is_empty() {
            return out;
        }
        for m in got {
            out.push(serde_json::from_str(&m.body).unwrap());
            queue.delete(name, &m.receipt).await.unwrap();
        }
    }
}

async fn decide(
    ports: Ports<'_>,
    id: &ReferenceId,
    outcome: Outcome,
    amount: Option<i64>,
    at: Timestamp,
) {
    let policy = mso_api::policies::load("sunrise").unwrap();
    let stored = disputes::load(ports.records, id).await.unwrap().unwrap();
    let mut d = stored.value.0.clone();
    review::decide(
        &mut d,
        Decision {
            outcome,
            amount: amount.map(Money::from_cents),
            reasons: vec!["Contract rate".into()],
            determination: "Letter".into(),
        },
        Actor::system(),
        at,
        &policy,
    )
    .unwrap();
    Change::updated(&stored, &d, at)
        .unwrap()
        .commit(ports, None)
        .await
        .unwrap();
}

#[tokio::test]
async fn an_overturned_payment_dispute_sends_its_claim_back_in_the_same_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let embedded = Embedded::open(dir.path(), "http://127.0.0.1:9".into()).unwrap();
    let (records, queue) = (embedded.records(), embedded.queue());
    let ports = Ports {
        records: records.as_ref(),
        queue: queue.as_ref(),
    };
    let now = ts("2026-03-02T17:05:00Z");
    let d = pdr_on_claim("DSP-7K3Q9M", now);
    Change::created(&d, now)
        .unwrap()
        .commit(ports, None)
        .await
        .unwrap();
    let decided_at = ts("2026-03-10T17:00:00Z");
    decide(
        ports,
        &d.id,
        Outcome::PartiallyOverturned,
        Some(5_000),
        decided_at,
    )
    .await;

    let messages = drain(queue.as_ref(), CLAIM_READJUDICATION).await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    let m = &messages[0];
    assert_eq!(m["claim_id"], "CLM-7K3Q9M2P4X");
    assert_eq!(m["dispute_id"], "DSP-7K3Q9M");
    assert_eq!(m["outcome"], "partially_overturned");
    assert_eq!(m["amount_cents"], 5_000);
    assert_eq!(
        m["decided_at"]
            .as_str()
            .unwrap()
            .parse::<Timestamp>()
            .unwrap(),
        decided_at
    );
    let actions: Vec<String> = drain(queue.as_ref(), DISPUTE_EVENTS)
        .await
        .into_iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    // The decision acknowledged first: both steps are published.
    assert_eq!(actions, ["filed", "acknowledged", "decided"]);

    // Decided, the guard is released: a new dispute on the same claim may be filed.
    assert_eq!(
        disputes::open_duplicate(records.as_ref(), &d.request)
            .await
            .unwrap(),
        None
    );

    // An upheld one sends nothing.
    let other = pdr_on_claim("DSP-8K3Q9M", now);
    Change::created(&other, now)
        .unwrap()
        .commit(ports, None)
        .await
        .unwrap();
    decide(ports, &other.id, Outcome::Upheld, None, decided_at).await;
    assert!(drain(queue.as_ref(), CLAIM_READJUDICATION).await.is_empty());
}

#[tokio::test]
async fn two_concurrent_filings_of_the_same_dispute_cannot_both_commit() {
    let dir = tempfile::tempdir().unwrap();
    let embedded = Embedded::open(dir.path(), "http://127.0.0.1:9".into()).unwrap();
    let (records, queue) = (embedded.records(), embedded.queue());
    let ports = Ports {
        records: records.as_ref(),
        queue: queue.as_ref(),
    };
    let now = ts("2026-03-02T17:05:00Z");
    let first = pdr_on_claim("DSP-7K3Q9M", now);
    // Both passed the duplicate check before either committed.
    let second = pdr_on_claim("DSP-8K3Q9M", now);
    Change::created(&first, now)
        .unwrap()
        .commit(ports, None)
        .await
        .unwrap();
    let lost = Change::created(&second, now)
        .unwrap()
        .commit(ports, None)
        .await;
    assert!(matches!(lost, Err(StoreError::ConditionFailed)), "{lost:?}");
    assert!(
        disputes::load(records.as_ref(), &second.id)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        disputes::open_duplicate(records.as_ref(), &second.request)
            .await
            .unwrap(),
        Some(first.id.clone())
    );
    // Nothing of the loser was left behind.
    let rows = records
        .query(mso_store::Query::primary(
            mso_store::keys::DISPUTE_LIST_ALL,
            "",
        ))
        .await
        .unwrap();
    assert_eq!(rows.records.len(), 1);
}
