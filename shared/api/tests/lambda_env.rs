//! A cold start reads its whole configuration from the environment and, when a
//! variable is missing or wrong, stops naming it. One test, because the
//! environment is the process's: the steps run in order on one thread.

use mso_api::lambda_env::LambdaEnv;

fn set(name: &str, value: &str) {
    // SAFETY: this test binary has one test, so no other thread reads the
    // environment while it changes.
    unsafe { std::env::set_var(name, value) }
}

fn unset(name: &str) {
    // SAFETY: as in `set`.
    unsafe { std::env::remove_var(name) }
}

fn error_of<T>(result: Result<T, impl std::fmt::Display>) -> String {
    match result {
        Ok(_) => panic!("expected the cold start to stop"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_cold_start_names_the_variable_it_is_missing() {
    for name in [
        "MSO_IPA",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "TABLE_NAME",
        "CURSOR_KEY",
        "DOCUMENTS_BUCKET",
        "INTAKE_BUCKET",
    ] {
        unset(name);
    }

    let e = error_of(LambdaEnv::read());
    assert!(e.contains("AWS_REGION"), "{e}");

    set("AWS_REGION", "us-west-2");
    set("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
    let e = error_of(LambdaEnv::read());
    assert!(e.contains("AWS_SECRET_ACCESS_KEY"), "{e}");

    set("AWS_SECRET_ACCESS_KEY", "secret");
    let env = LambdaEnv::read().expect("the SDK configuration is set");

    let e = error_of(env.policy());
    assert!(e.contains("MSO_IPA") && e.contains("not set"), "{e}");
    set("MSO_IPA", "atlantis");
    let e = error_of(env.policy());
    assert!(
        e.contains("MSO_IPA") && e.contains("\"atlantis\"") && e.contains("sunrise"),
        "{e}"
    );
    set("MSO_IPA", "sunrise");
    let policy = env.policy().expect("MSO_IPA names a bundled policy");
    assert_eq!(policy.ipa.id, "sunrise", "the policy MSO_IPA names");

    let e = error_of(env.records());
    assert!(e.contains("TABLE_NAME") && e.contains("not set"), "{e}");
    set("TABLE_NAME", "mso-sunrise");
    let e = error_of(env.records());
    assert!(e.contains("CURSOR_KEY"), "{e}");
    set(
        "CURSOR_KEY",
        "a paging cursor key of at least thirty-two bytes",
    );
    env.records().expect("the table and its cursor key are set");

    let e = error_of(env.bucket("DOCUMENTS_BUCKET"));
    assert!(
        e.contains("DOCUMENTS_BUCKET") && e.contains("not set"),
        "{e}"
    );
    set("DOCUMENTS_BUCKET", "mso-sunrise-documents");
    set("INTAKE_BUCKET", "mso-sunrise-intake");
    let documents = env
        .bucket("DOCUMENTS_BUCKET")
        .expect("the bucket's variable is set");
    let intake = env
        .bucket("INTAKE_BUCKET")
        .expect("the bucket's variable is set");
    // One client, each store over its own bucket.
    assert_eq!(documents.bucket(), "mso-sunrise-documents");
    assert_eq!(intake.bucket(), "mso-sunrise-intake");
}
