//! What the repository promises elsewhere: the checked-in OpenAPI document, the
//! SAM template's routes, resources and variables match what the code serves and reads.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use mso::routes::api_routes;
use mso_store::Key;
use mso_testkit::role::{self, Role};
use mso_testkit::template::function_resource;
use yaml_rust2::{Yaml, YamlLoader};

fn repo(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

#[test]
fn the_checked_in_openapi_document_is_current() {
    let generated = mso::openapi::json();
    let path = repo("docs/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "docs/openapi.json is out of date: run `cargo run -- openapi > docs/openapi.json` (or UPDATE_OPENAPI=1 cargo test --test contracts)"
    );
}

/// Each function's schemas are merged into one document by name: two functions
/// with a type of the same name would silently lose one of them.
#[test]
fn no_two_functions_define_a_schema_of_the_same_name_differently() {
    let mut seen: std::collections::BTreeMap<String, (String, serde_json::Value)> =
        Default::default();
    for (function, part) in mso::openapi::parts() {
        let doc = serde_json::to_value(&part).unwrap();
        let Some(schemas) = doc["components"]["schemas"].as_object() else {
            continue;
        };
        for (name, schema) in schemas {
            if let Some((other, earlier)) = seen.get(name) {
                assert_eq!(
                    earlier, schema,
                    "schema {name} of {function} differs from {other}'s: rename one"
                );
            }
            seen.insert(name.clone(), (function.to_string(), schema.clone()));
        }
    }
    assert!(seen.len() > 10);
}

#[test]
fn the_openapi_document_covers_every_route() {
    let doc: serde_json::Value = serde_json::from_str(&mso::openapi::json()).unwrap();
    for route in api_routes() {
        let op = &doc["paths"][route.path][route.method.to_ascii_lowercase()];
        assert!(op.is_object(), "{} is not documented", route.key());
        assert!(
            op["responses"]["401"].is_object(),
            "{} does not document 401",
            route.key()
        );
    }
}

/// infra/template.yaml, parsed.
fn template() -> Yaml {
    let text = std::fs::read_to_string(repo("infra/template.yaml")).unwrap();
    YamlLoader::load_from_str(&text).unwrap().remove(0)
}

/// Every `Type: HttpApi` event in the template, as (method, path, function resource).
fn template_routes() -> BTreeSet<(String, String, String)> {
    let template = template();
    let resources = template["Resources"].as_hash().unwrap();
    let mut routes = BTreeSet::new();
    for (name, resource) in resources {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let Some(events) = resource["Properties"]["Events"].as_hash() else {
            continue;
        };
        for event in events.values() {
            if event["Type"].as_str() == Some("HttpApi") {
                let props = &event["Properties"];
                let field = |k: &str| match &props[k] {
                    Yaml::String(s) => s.clone(),
                    other => panic!(
                        "{k} of an HttpApi event in {name:?} is not a plain string: {other:?}"
                    ),
                };
                routes.insert((
                    field("Method").to_ascii_uppercase(),
                    field("Path"),
                    name.as_str().unwrap().to_string(),
                ));
            }
        }
    }
    routes
}

#[test]
fn the_template_and_mso_serve_expose_the_same_routes() {
    let served: BTreeSet<(String, String, String)> = api_routes()
        .into_iter()
        .map(|r| {
            (
                r.method.to_string(),
                r.path.to_string(),
                function_resource(r.function.name()),
            )
        })
        .collect();
    let deployed = template_routes();
    assert!(!deployed.is_empty());
    let only_local: Vec<_> = served.difference(&deployed).collect();
    let only_aws: Vec<_> = deployed.difference(&served).collect();
    assert!(
        only_local.is_empty() && only_aws.is_empty(),
        "served by mso serve only: {only_local:?}; in the template only: {only_aws:?}"
    );
}

/// Least privilege on the single table: every statement of every function that
/// grants a DynamoDB action restricts it to the partitions the function uses
/// (`dynamodb:LeadingKeys`), so no function can read audit or idempotency
/// records, or another job's, by accident or by bug.
#[test]
fn every_table_grant_is_limited_to_the_partitions_the_function_uses() {
    let mut checked = 0;
    for function in functions() {
        for statement in Role::of(&function).statements() {
            let actions = statement.actions();
            if !actions.iter().any(|a| a.starts_with("dynamodb:")) {
                continue;
            }
            checked += 1;
            let prefixes = statement.leading_keys().unwrap_or_default();
            assert!(
                !prefixes.is_empty() && prefixes.iter().all(|p| p.len() > 1 && p != "*"),
                "{function}: statement {} grants {actions:?} without a dynamodb:LeadingKeys prefix list",
                statement.sid()
            );
        }
    }
    assert!(checked > 0, "no DynamoDB grant found in the template");
}

/// Every Lambda function of the template, by its kebab-case name (its binary,
/// `CodeUri: ../target/lambda/<name>/`).
fn functions() -> Vec<String> {
    let template = template();
    let resources = template["Resources"].as_hash().unwrap();
    resources
        .values()
        .filter(|r| r["Type"].as_str() == Some("AWS::Serverless::Function"))
        .filter_map(|r| r["Properties"]["CodeUri"].as_str())
        .filter_map(|code| code.strip_prefix("../target/lambda/")?.strip_suffix('/'))
        .map(str::to_owned)
        .collect()
}

/// Whether one statement of `function`'s role allows `action` on items whose
/// partition keys are `keys`, all in one request: IAM evaluates
/// `ForAllValues:StringLike` on `dynamodb:LeadingKeys` over every key of a
/// `BatchGetItem`, so statements that each allow some of the keys do not add up.
fn one_statement_allows(function: &str, action: &str, keys: &[Key]) -> bool {
    let pks: Vec<&str> = keys.iter().map(|k| k.pk.as_str()).collect();
    Role::of(function).allows(action, role::TABLE_ARN, &pks)
}

/// Every read of several records in one request (`RecordStore::get_many`, a
/// `BatchGetItem` in DynamoDB), with its keys built as the code builds them, is
/// allowed by the role of each function that makes it. moto does not enforce
/// IAM, so a batch read the role does not allow would otherwise first fail in
/// AWS. The handler tests check every request their handlers make against the
/// role (`mso_testkit::role`); this list names the batch reads in one place.
#[test]
fn every_batch_read_is_allowed_by_one_statement_of_the_role() {
    use mso_store::keys;
    let member = keys::member("M100001");
    let (provider, other_provider) = (keys::provider("1234567893"), keys::provider("1538264912"));
    let (auth, other_auth) = (keys::prior_auth("PA-7K3Q9M"), keys::prior_auth("PA-9X2B4C"));
    let claim = keys::claim("CLM-7K3Q9M2P4X");
    let open_guard = keys::dispute_open("PA-7K3Q9M", "appeal", "medical_necessity");
    let turn = keys::claim_turn(&"ab".repeat(32));
    let other_member = keys::member("M100002");
    let batches: [(&str, &str, Vec<Key>); 13] = [
        (
            "eligibility",
            "the member and the rendering provider",
            vec![member.clone(), provider.clone()],
        ),
        (
            "claims",
            "the providers a submitted claim names",
            vec![provider.clone(), other_provider.clone()],
        ),
        (
            "prior-auth",
            "the member and the providers of an auth",
            vec![member.clone(), provider.clone(), other_provider.clone()],
        ),
        (
            "intake",
            "the member and the providers of an auth it files",
            vec![member.clone(), provider.clone(), other_provider.clone()],
        ),
        (
            "intake",
            "a faxed appeal's auth and its open-dispute guard",
            vec![auth.clone(), open_guard.clone()],
        ),
        (
            "intake",
            "a faxed PDR's claim and its open-dispute guard",
            vec![claim.clone(), open_guard.clone()],
        ),
        (
            "intake-s3",
            "the members a fax or email quotes",
            vec![member.clone(), other_member.clone()],
        ),
        (
            "disputes",
            "an appeal's auth and its open-dispute guard",
            vec![auth.clone(), open_guard.clone()],
        ),
        (
            "disputes",
            "a PDR's claim and its open-dispute guard",
            vec![claim.clone(), open_guard.clone()],
        ),
        (
            "claims-s3",
            "the providers a file names",
            vec![provider.clone(), other_provider.clone()],
        ),
        (
            "claims-edits",
            "the member's turn and the member",
            vec![turn.clone(), member.clone()],
        ),
        (
            "claims-edits",
            "the member's PCPs",
            vec![provider.clone(), other_provider.clone()],
        ),
        (
            "claims-edits",
            "the auths that could cover a claim",
            vec![auth.clone(), other_auth.clone()],
        ),
    ];
    for (function, what, keys) in &batches {
        assert!(
            one_statement_allows(function, "dynamodb:BatchGetItem", keys),
            "{function} may not BatchGetItem {what}: {:?}",
            keys.iter().map(|k| &k.pk).collect::<Vec<_>>()
        );
    }
    // The check can fail: no statement allows a read across jobs.
    assert!(!one_statement_allows(
        "eligibility",
        "dynamodb:BatchGetItem",
        &[member.clone(), claim.clone()]
    ));
    assert!(!one_statement_allows(
        "disputes",
        "dynamodb:BatchGetItem",
        &[auth, member]
    ));
}

/// The template against what the code reads: every function's CodeUri is a
/// Lambda binary that infra/build-lambdas.sh builds, run as `bootstrap` on
/// provided.al2023; every variable its main requires is set (or global); every
/// queue variable names a queue of the template whose name is the logical one
/// the code uses; the buckets it names exist; the table has the index the
/// DynamoDB adapter queries. A renamed resource fails here, not at deploy.
#[test]
fn the_template_gives_every_function_what_its_code_reads() {
    let root = &template();
    let resources = root["Resources"].as_hash().unwrap();
    let globals = &root["Globals"]["Function"];
    assert_eq!(globals["Handler"].as_str(), Some("bootstrap"));
    assert_eq!(globals["Runtime"].as_str(), Some("provided.al2023"));
    let global_vars: Vec<String> = globals["Environment"]["Variables"]
        .as_hash()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap().to_string())
        .collect();
    let built = std::fs::read_to_string(repo("infra/build-lambdas.sh")).unwrap();
    let sub = |y: &Yaml| -> Option<String> {
        match y {
            Yaml::String(s) => Some(s.clone()),
            Yaml::Hash(h) => h
                .get(&Yaml::String("Fn::Sub".into()))
                .and_then(|v| v.as_str())
                .map(String::from),
            _ => None,
        }
    };
    // The SDK's partition table for the stack's partition, packaged beside every
    // bootstrap, for each partition (shared/store/tests/partitions.rs holds the
    // tables to the SDK's own).
    assert_eq!(
        sub(&globals["Environment"]["Variables"]["SMITHY_CLIENT_SDK_CUSTOM_PARTITION"]).as_deref(),
        Some("/var/task/partitions/${AWS::Partition}.json")
    );
    assert!(built.contains(r#"cp infra/partitions/*.json "$lambda_dir/$f/partitions/""#));
    for partition in [
        "aws",
        "aws-cn",
        "aws-us-gov",
        "aws-iso",
        "aws-iso-b",
        "aws-iso-e",
        "aws-iso-f",
        "aws-eusc",
    ] {
        let table = repo(&format!("infra/partitions/{partition}.json"));
        assert!(table.is_file(), "no {}", table.display());
    }
    // `!Sub`/`!Ref` tags arrive as plain strings or single-key maps; the raw
    // text is easier to search for a resource's own properties.
    let queue_names: HashMap<String, String> = resources
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::SQS::Queue"))
        .map(|(name, r)| {
            let queue = sub(&r["Properties"]["QueueName"]).unwrap_or_default();
            (name.as_str().unwrap().to_string(), queue)
        })
        .collect();
    let bucket_names: Vec<String> = resources
        .values()
        .filter(|r| r["Type"].as_str() == Some("AWS::S3::Bucket"))
        .filter_map(|r| sub(&r["Properties"]["BucketName"]))
        .collect();
    let mut functions = 0;
    for (name, resource) in resources {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        functions += 1;
        let name = name.as_str().unwrap();
        let code = resource["Properties"]["CodeUri"].as_str().unwrap();
        let binary = code
            .strip_prefix("../target/lambda/")
            .and_then(|b| b.strip_suffix('/'))
            .unwrap_or_else(|| panic!("{name}: CodeUri {code} is not ../target/lambda/<binary>/"));
        assert_eq!(
            function_resource(binary),
            name,
            "{name}: one kebab-case name per function"
        );
        assert!(
            built.lines().any(|l| l.trim() == binary),
            "{name}: infra/build-lambdas.sh does not build {binary}"
        );
        let main = std::fs::read_dir(repo("functions"))
            .unwrap()
            .map(|d| d.unwrap().path().join(format!("src/bin/{binary}.rs")))
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("{name}: no functions/*/src/bin/{binary}.rs"));
        // The main, and its crate's library (where shared adapter building lives).
        let lib = main.parent().unwrap().parent().unwrap().join("lib.rs");
        let main_source = std::fs::read_to_string(&main).unwrap();
        let lib_source = std::fs::read_to_string(lib).unwrap();
        // Only a relay (outbox-relay, a sweeper) holds the SQS queues; a writer's
        // events leave through the table's stream, and it holds none.
        let lib_deps = lib_source
            .split("pub fn aws_deps()")
            .nth(1)
            .and_then(|rest| rest.split("\n}\n").next())
            .unwrap_or_default();
        let relays = main_source.contains("aws_sweeper_deps()")
            || (main_source.contains("aws_deps()") && lib_deps.contains("relay_queues()"));
        let source = main_source + &lib_source;
        let vars = resource["Properties"]["Environment"]["Variables"].as_hash();
        let own: Vec<String> = vars
            .map(|v| v.keys().map(|k| k.as_str().unwrap().to_string()).collect())
            .unwrap_or_default();
        for required in source.split("config::required(\"").skip(1) {
            let var = required.split('"').next().unwrap();
            assert!(
                own.iter().chain(&global_vars).any(|v| v == var),
                "{name}: {binary} requires {var}, which the template does not set"
            );
        }
        let queue_vars = own.iter().filter(|v| v.starts_with("QUEUE_URL_")).count();
        assert_eq!(
            relays,
            queue_vars > 0,
            "{name}: {binary} {} the queues, and the template sets it {queue_vars} QUEUE_URL_ variable(s)",
            if relays { "sends to" } else { "holds none of" }
        );
        for (var, value) in vars.into_iter().flatten() {
            let var = var.as_str().unwrap();
            if let Some(queue) = var.strip_prefix("QUEUE_URL_") {
                let logical = queue.to_ascii_lowercase().replace('_', "-");
                let target = match value {
                    Yaml::Hash(h) => h
                        .get(&Yaml::String("Ref".into()))
                        .and_then(|v| v.as_str())
                        .map(String::from),
                    Yaml::String(s) => Some(s.clone()),
                    _ => None,
                }
                .unwrap_or_default();
                let name_of = queue_names
                    .get(&target)
                    .unwrap_or_else(|| panic!("{name}: {var} is not a queue of the template"));
                assert_eq!(
                    name_of,
                    &format!("mso-${{IpaId}}-{logical}"),
                    "{name}: {var} points at a queue of another name"
                );
            }
            if var.ends_with("_BUCKET") {
                let bucket = sub(value).unwrap_or_default();
                assert!(
                    bucket_names.contains(&bucket),
                    "{name}: {var} = {bucket} is no bucket of the template"
                );
            }
        }
    }
    assert!(functions >= 9, "only {functions} functions in the template");
    // Every queue the records crate names exists, with its dead-letter queue.
    let relay = &resources[&Yaml::String("OutboxRelayFunction".into())]["Properties"];
    let records = std::fs::read_dir(repo("shared/records/src"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect::<String>();
    for line in records
        .lines()
        .filter(|l| l.starts_with("pub const ") && l.contains(": &str = \""))
    {
        let queue = line.split('"').nth(1).unwrap();
        for name in [
            format!("mso-${{IpaId}}-{queue}"),
            format!("mso-${{IpaId}}-{queue}-dlq"),
        ] {
            assert!(
                queue_names.values().any(|q| *q == name),
                "the template has no queue {name}"
            );
        }
        // In the stack only the outbox relay sends the events the jobs store:
        // it must know the queue, and its role must allow sending to it.
        let var = format!("QUEUE_URL_{}", queue.to_ascii_uppercase().replace('-', "_"));
        assert!(
            !relay["Environment"]["Variables"][var.as_str()].is_badvalue(),
            "outbox-relay has no {var}: events stored for {queue} would wait for a sweeper"
        );
        assert!(
            Role::of("outbox-relay").allows("sqs:SendMessage", &role::queue_arn(queue), &[]),
            "outbox-relay may not send to {queue}"
        );
        // It reads a batch's rows together and removes them together.
        let rows = format!("OUTBOX#{queue}");
        for action in ["dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"] {
            assert!(
                Role::of("outbox-relay").allows(action, role::TABLE_ARN, &[&rows]),
                "outbox-relay may not {action} {rows}"
            );
        }
    }
    // Each sweeper relays its queues' stale events the same way: the rows it
    // found, removed together once sent.
    for (sweeper, queues) in [
        ("prior-auth-sweeper", &["auth-events"][..]),
        ("claims-sweeper", &["claim-edits"]),
        (
            "disputes-sweeper",
            &["dispute-events", "claim-readjudication"],
        ),
    ] {
        for queue in queues {
            let rows = format!("OUTBOX#{queue}");
            assert!(
                Role::of(sweeper).allows("dynamodb:BatchWriteItem", role::TABLE_ARN, &[&rows]),
                "{sweeper} may not remove {rows} rows in a batch"
            );
        }
    }
    // The stream the relay reads carries keys only (no PHI), and its filter
    // passes new rows of every outbox.
    let table = resources
        .values()
        .find(|r| r["Type"].as_str() == Some("AWS::DynamoDB::Table"))
        .unwrap();
    assert_eq!(
        table["Properties"]["StreamSpecification"]["StreamViewType"].as_str(),
        Some("KEYS_ONLY")
    );
    let filter = &relay["Events"]["OutboxRows"]["Properties"]["FilterCriteria"];
    let pattern: serde_json::Value =
        serde_json::from_str(filter["Filters"][0]["Pattern"].as_str().unwrap()).unwrap();
    assert_eq!(
        pattern,
        serde_json::json!({"eventName": ["INSERT"], "dynamodb": {"Keys": {"pk": {"S": [
            {"prefix": mso_store::keys::OUTBOX_PARTITION_PREFIX}
        ]}}}})
    );
    // The index the DynamoDB adapter queries.
    let table = resources
        .values()
        .find(|r| r["Type"].as_str() == Some("AWS::DynamoDB::Table"))
        .unwrap();
    let indexes: Vec<&str> = table["Properties"]["GlobalSecondaryIndexes"]
        .as_vec()
        .unwrap()
        .iter()
        .filter_map(|i| i["IndexName"].as_str())
        .collect();
    let adapter = std::fs::read_to_string(repo("shared/store/src/aws/dynamo.rs")).unwrap();
    assert!(adapter.contains("const GSI1: &str = \"gsi1\";"));
    assert_eq!(indexes, ["gsi1"]);
}
