//! What other jobs use: the intake job files a paper dispute with the fax's
//! receipt time, and the documents job attaches documents to a dispute.

mod support;

use mso_domain::disputes::{Channel, Kind, ReasonCategory, Request, SubjectRef};
use mso_domain::ids::{RecordKind, ReferenceId};
use mso_domain::prior_auth::{Actor, Contact};
use mso_records::disputes::{self, Change, FileError};
use mso_records::documents::owners::{self, Note, Owner, OwnerKind};
use support::*;

fn paper_appeal() -> Request {
    Request {
        kind: Kind::Appeal,
        subject: SubjectRef::PriorAuth(ReferenceId::parse("PA-7K3Q9M").unwrap()),
        reason_category: ReasonCategory::MedicalNecessity,
        reason: "Faxed appeal with the therapy notes".into(),
        amount_disputed: None,
        remittance_date: None,
        expedited: false,
        contact: Contact {
            name: "Billing".into(),
            phone: "657-555-0199".into(),
            extension: None,
            fax: Some("657-555-0198".into()),
            email: None,
        },
    }
}

fn clerk() -> Actor {
    Actor {
        subject: "clerk-1".into(),
        org: IPA.into(),
        role: "intake_clerk".into(),
    }
}

#[tokio::test]
async fn a_paper_dispute_from_intake_runs_its_clocks_from_the_fax() {
    let e = env().await;
    e.denied_auth("PA-7K3Q9M").await;
    // The fax came in on Tuesday 3 March at 16:55 Pacific; the clerk files it
    // on Friday 6 March.
    e.ipa.at("2026-03-06T18:00:00Z");
    let fax_at = ts("2026-03-04T00:55:00Z");
    let item = ReferenceId::parse("INT-7K3Q9M").unwrap();
    let d = disputes::file(
        e.ipa.records.as_ref(),
        &e.ipa.policy,
        None,
        paper_appeal(),
        fax_at,
        Channel::Paper,
        Some(item.clone()),
        mso_api::ids::new_reference(RecordKind::Dispute),
        clerk(),
        ts("2026-03-06T18:00:00Z"),
    )
    .await
    .unwrap();
    assert_eq!(d.received_at, fax_at);
    assert_eq!(d.channel, Channel::Paper);
    // 15 working days from Tuesday 3 March: Tuesday 24 March, end of day.
    assert_eq!(d.acknowledge_due, ts("2026-03-25T06:59:59.999999999Z"));
    Change::created(&d, ts("2026-03-06T18:00:00Z"))
        .unwrap()
        .commit(
            mso_records::Ports {
                records: e.ipa.records.as_ref(),
                queue: e.ipa.queue.as_ref(),
            },
            None,
        )
        .await
        .unwrap();
    let got = json(&e.get(d.id.as_str(), SUNRISE_ORG, "provider_user").await);
    assert_eq!(got["channel"], "paper");
    assert_eq!(got["intake_item_id"], "INT-7K3Q9M");
    assert_eq!(instant(&got["received_at"]), fax_at);
    assert_eq!(got["history"][0]["by"], "intake_clerk");

    // The same appeal filed again (a second fax) is the duplicate, by id.
    let again = disputes::file(
        e.ipa.records.as_ref(),
        &e.ipa.policy,
        None,
        paper_appeal(),
        fax_at,
        Channel::Paper,
        Some(item),
        mso_api::ids::new_reference(RecordKind::Dispute),
        clerk(),
        ts("2026-03-06T18:00:00Z"),
    )
    .await;
    assert!(matches!(again, Err(FileError::Duplicate { existing }) if existing == d.id));
}

#[tokio::test]
async fn documents_attach_to_a_dispute_and_show_in_its_history() {
    let e = env().await;
    e.denied_auth("PA-7K3Q9M").await;
    let filed = e.filed("k-1", &appeal("PA-7K3Q9M")).await;
    let id = filed["id"].as_str().unwrap();
    let owner = Owner::parse(OwnerKind::Dispute, id).unwrap();
    assert_eq!(owner.partition(), Some(format!("DSP#{id}")));
    let record = owners::resolve(e.ipa.records.as_ref(), &owner)
        .await
        .unwrap()
        .expect("the dispute is an owner");
    assert_eq!(record.org.as_str(), SUNRISE_ORG);
    let (ops, events) = record
        .noted(
            &Note::DocumentAvailable {
                document: ReferenceId::parse("DOC-7K3Q9M2P4X").unwrap(),
                message: 1,
            },
            Actor::system(),
            ts(NOW),
        )
        .unwrap();
    e.ipa.records.transact(ops).await.unwrap();
    assert_eq!(events[0].queue, "dispute-events");
    let got = json(&e.get(id, SUNRISE_ORG, "provider_user").await);
    let last = got["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "document_added");
    assert_eq!(last["to"], "received");
    // An unknown dispute is no owner.
    let none = Owner::parse(OwnerKind::Dispute, "DSP-000000").unwrap();
    assert!(
        owners::resolve(e.ipa.records.as_ref(), &none)
            .await
            .unwrap()
            .is_none()
    );
}
