//! The `mso` commands a user or operator types, and how they fail.

mod support;

use std::fs;

use mso_store::RecordStore;
use mso_store::embedded::Embedded;
use support::mso;

const MEMBERS_HEADER: &str = "member_id,first_name,last_name,dob,sex,plan_id,line_of_business,coverage_start,coverage_end,pcp_npi,extra_column";

#[test]
fn a_bad_row_is_reported_by_line_and_nothing_is_imported() {
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("members.csv");
    fs::write(
        &file,
        format!(
            "{MEMBERS_HEADER}\n\
             IMP000001,Ana,Lopez,1984-03-15,F,GSHP-MCAL,medi_cal,2025-01-01,,1234567893,x\n\
             IMP000002,Rosa,Chen,1971-02-30,F,GSHP-MCAL,medi_cal,2025-01-01,,1234567890,x\n\
             IMP000003,Mei,Kim,1990-01-01,F,NOT-A-PLAN,medi_cal,2025-01-01,,,x\n"
        ),
    )
    .unwrap();
    let out = mso(&["import", "members", file.to_str().unwrap()], data.path());
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3, column dob"), "{err}");
    assert!(err.contains("line 3, column pcp_npi"), "{err}");
    assert!(err.contains("line 4, column plan_id"), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");
    assert!(
        !err.contains("1971-02-30") && !err.contains("Rosa"),
        "errors never repeat PHI: {err}"
    );

    // Nothing of the good row was stored either.
    let store = Embedded::open(data.path(), "http://127.0.0.1".into()).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let stored = rt
        .block_on(store.records().get(&mso_store::keys::member("IMP000001")))
        .unwrap();
    assert!(stored.is_none());
}

#[test]
fn a_good_roster_imports_and_is_readable() {
    let data = tempfile::tempdir().unwrap();
    let providers = data.path().join("providers.csv");
    fs::write(&providers, "npi,name,org_id,specialty,network\n1234567893,Maria Santos MD,acme-clinic,Family Medicine,in\n").unwrap();
    let members = data.path().join("members.csv");
    fs::write(
        &members,
        format!(
            "{MEMBERS_HEADER}\n\
             IMP000001,Ana,Lopez,1984-03-15,F,GSHP-MCAL,medi_cal,2024-01-01,2024-12-31,1234567893,x\n\
             IMP000001,Ana,Lopez,1984-03-15,F,GSHP-MA,medicare_advantage,2025-01-01,,1234567893,x\n"
        ),
    )
    .unwrap();
    let out = mso(
        &["import", "providers", providers.to_str().unwrap()],
        data.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "imported 1 providers"
    );
    let out = mso(
        &["import", "members", members.to_str().unwrap()],
        data.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "imported 1 members (2 coverage spans)"
    );

    let store = Embedded::open(data.path(), "http://127.0.0.1".into()).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let member = rt
        .block_on(store.records().get(&mso_store::keys::member("IMP000001")))
        .unwrap()
        .unwrap();
    assert_eq!(
        member.body.to_value().unwrap()["spans"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        member.body.to_value().unwrap()["spans"][1]["plan_id"],
        "GSHP-MA"
    );
}

#[test]
fn a_csv_with_missing_columns_or_ragged_rows_is_refused() {
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("providers.csv");
    fs::write(&file, "npi,name,org_id\n1234567893,A,b-org\n").unwrap();
    let out = mso(
        &["import", "providers", file.to_str().unwrap()],
        data.path(),
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("line 1: missing column(s) specialty, network")
    );

    fs::write(
        &file,
        "npi,name,org_id,specialty,network\n1234567893,A,b-org,FM\n",
    )
    .unwrap();
    let out = mso(
        &["import", "providers", file.to_str().unwrap()],
        data.path(),
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("line 2: has 4 fields where the header has 5"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_corrupt_policy_stops_start_up_naming_file_and_key() {
    let data = tempfile::tempdir().unwrap();
    let policy = data.path().join("broken.toml");
    let good = fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/infra/ipas/sunrise.toml"
    ))
    .unwrap();
    fs::write(
        &policy,
        good.replace(
            "decision_working_days = 45",
            "decision_working_days = \"soon\"",
        ),
    )
    .unwrap();
    let out = mso(
        &["serve", "--port", "0", "--policy", policy.to_str().unwrap()],
        data.path(),
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.toml"), "{err}");
    assert!(err.contains("disputes.decision_working_days"), "{err}");

    let missing = data.path().join("nope.toml");
    let out = mso(
        &[
            "serve",
            "--port",
            "0",
            "--policy",
            missing.to_str().unwrap(),
        ],
        data.path(),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read IPA policy"));
}

#[test]
fn token_refuses_unknown_roles_and_bad_npis() {
    let data = tempfile::tempdir().unwrap();
    let out = mso(
        &["token", "--org", "acme-clinic", "--role", "superuser"],
        data.path(),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown role"));
    let out = mso(
        &[
            "token",
            "--org",
            "acme-clinic",
            "--role",
            "provider_user",
            "--npi",
            "1234567890",
        ],
        data.path(),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a valid NPI"));
}

#[test]
fn policy_check_validates_a_file_and_names_every_bad_key() {
    let dir = tempfile::tempdir().unwrap();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for ipa in ["sunrise", "harbor"] {
        let path = repo.join(format!("infra/ipas/{ipa}.toml"));
        let out = std::process::Command::new(support::MSO)
            .args(["policy", "check"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("valid policy"));
    }
    let bad = dir.path().join("bad.toml");
    let text = fs::read_to_string(repo.join("infra/ipas/sunrise.toml"))
        .unwrap()
        .replace("decision_working_days = 45", "decision_working_days = 0")
        .replace("max_units = 12", "max_units = 0");
    fs::write(&bad, text).unwrap();
    let out = std::process::Command::new(support::MSO)
        .args(["policy", "check"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml"), "{err}");
    assert!(
        err.contains("key `prior_auth.criteria[2].max_units`"),
        "{err}"
    );
    assert!(
        err.contains("key `disputes.decision_working_days`"),
        "{err}"
    );
}
