//! `GET /v1/documents/{id}`: who may read a document, and the audit trail of
//! every read and every download URL.

mod support;

use support::*;

#[tokio::test]
async fn the_owners_organisation_and_um_staff_read_it_and_everyone_else_gets_404() {
    let e = env().await;
    let v = e
        .upload("letter.pdf", "application/pdf", fixture("letter.pdf"))
        .await;
    let id = v["id"].as_str().unwrap();
    for (org, role, status) in [
        (SUNRISE_ORG, "provider_user", 200),
        (SUNRISE_ORG, "site_admin", 200),
        (IPA, "um_nurse", 200),
        (IPA, "medical_director", 200),
        // Another practice, and IPA staff whose job is not prior auths.
        (HARBOR_ORG, "provider_user", 404),
        (IPA, "claims_examiner", 404),
        (IPA, "dispute_reviewer", 404),
        (IPA, "intake_clerk", 404),
        // No documents role at all.
        (IPA, "ops_admin", 403),
    ] {
        let resp = e.get_as(id, org, role).await;
        let body = json(&resp);
        assert_eq!(resp.status(), status, "{org}/{role}: {body}");
        if status == 200 {
            assert!(body["download"]["url"].is_string(), "{org}/{role}");
        } else {
            assert!(body.get("file_name").is_none(), "nothing leaks: {body}");
        }
    }
    // Every URL issued, and only those, is audited with who and what.
    let audited = e.audited("document.download_url").await;
    assert_eq!(audited.len(), 5, "the upload's own read plus four");
    let nurse = audited
        .iter()
        .find(|a| a["actor_roles"][0] == "um_nurse")
        .unwrap();
    assert_eq!(nurse["subject_id"], id);
    assert_eq!(nurse["actor_org"], IPA);
    assert_eq!(nurse["purpose"], "treatment");
    assert!(
        nurse["at"]
            .as_str()
            .unwrap()
            .starts_with("2026-03-02T17:05:00")
    );
}

#[tokio::test]
async fn a_document_not_yet_available_has_no_download_but_its_read_is_audited() {
    let e = env().await;
    let v = e.slot(&slot("a.pdf", "application/pdf", 10)).await;
    let id = v["id"].as_str().unwrap();
    let read = e.get(id).await;
    assert_eq!(read["status"], "awaiting_upload");
    assert!(
        read["download"].is_null() && read["upload"].is_null(),
        "{read}"
    );
    assert_eq!(e.audited("document.read").await.len(), 1);
    assert!(e.audited("document.download_url").await.is_empty());
}

#[tokio::test]
async fn ids_that_are_not_documents_are_simply_not_found() {
    let e = env().await;
    for id in ["DOC-ZZZZZZZZZZ", "PA-7K3Q9M", "nonsense", "DOC-"] {
        let resp = e.get_as(id, SUNRISE_ORG, "provider_user").await;
        assert_eq!(resp.status(), 404, "{id}");
    }
    let resp = e
        .call(Call::new(
            "GET /v1/documents/{id}",
            "/v1/documents/DOC-ZZZZZZZZZZ",
        ))
        .await;
    assert_eq!(resp.status(), 401);
}
