//! The partition tables the stack packages (infra/partitions/, one partition
//! each, chosen by `SMITHY_CLIENT_SDK_CUSTOM_PARTITION` in infra/template.yaml)
//! give every endpoint the SDK's own table gives, in every region they list:
//! DynamoDB, S3 and SQS, plain, FIPS and dual-stack.
//!
//! Each SDK crate reads the variable once per process, so the tables are read
//! by this binary run again as a child, one per table.

use std::path::{Path, PathBuf};
use std::process::Command;

use aws_smithy_runtime_api::client::endpoint::EndpointFuture;

const TABLE_VAR: &str = "SMITHY_CLIENT_SDK_CUSTOM_PARTITION";
const REGIONS_VAR: &str = "MSO_TEST_REGIONS";

fn tables() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/partitions");
    let mut tables: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("infra/partitions")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|x| x == "json"))
        .collect();
    tables.sort();
    tables
}

/// The regions a table lists, and the id of its one partition.
fn regions_of(table: &Path) -> (String, Vec<String>) {
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(table).unwrap()).expect("a table is JSON");
    let partitions = json["partitions"].as_array().expect("partitions");
    assert_eq!(partitions.len(), 1, "{}: one partition", table.display());
    let id = partitions[0]["id"].as_str().unwrap().to_owned();
    let regions = partitions[0]["regions"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    (id, regions)
}

fn answer(future: EndpointFuture<'_>) -> String {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    match runtime.block_on(future) {
        Ok(endpoint) => format!("{endpoint:?}"),
        Err(e) => format!("error: {e}"),
    }
}

/// One line per service, region and variant: what this process's tables give.
fn endpoints(regions: &[String]) -> Vec<String> {
    use aws_sdk_dynamodb::config::endpoint as dynamodb;
    use aws_sdk_s3::config::endpoint as s3;
    use aws_sdk_sqs::config::endpoint as sqs;
    use dynamodb::ResolveEndpoint as _;
    use s3::ResolveEndpoint as _;
    use sqs::ResolveEndpoint as _;

    let (dynamodb, s3, sqs) = (
        dynamodb::DefaultResolver::new(),
        s3::DefaultResolver::new(),
        sqs::DefaultResolver::new(),
    );
    let mut lines = Vec::new();
    for region in regions {
        for (fips, dual_stack) in [(false, false), (true, false), (false, true)] {
            let params = dynamodb::Params::builder()
                .region(region)
                .use_fips(fips)
                .use_dual_stack(dual_stack)
                .build()
                .unwrap();
            let dynamodb = answer(dynamodb.resolve_endpoint(&params));
            let params = s3::Params::builder()
                .region(region)
                .bucket("mso-sunrise-claims-123456789012")
                .use_fips(fips)
                .use_dual_stack(dual_stack)
                .build()
                .unwrap();
            let s3 = answer(s3.resolve_endpoint(&params));
            let params = sqs::Params::builder()
                .region(region)
                .use_fips(fips)
                .use_dual_stack(dual_stack)
                .build()
                .unwrap();
            let sqs = answer(sqs.resolve_endpoint(&params));
            let variant = format!("{region} fips={fips} dual-stack={dual_stack}");
            lines.push(format!("DynamoDB {variant}: {dynamodb}"));
            lines.push(format!("S3 {variant}: {s3}"));
            lines.push(format!("SQS {variant}: {sqs}"));
        }
    }
    lines
}

#[test]
fn every_packaged_table_gives_the_endpoints_of_the_sdks_own() {
    let tables = tables();
    assert_eq!(tables.len(), 8, "one table per partition: {tables:?}");
    assert!(
        std::env::var_os(TABLE_VAR).is_none(),
        "run without {TABLE_VAR}: this process answers with the SDK's own table"
    );
    for table in tables {
        let (partition, regions) = regions_of(&table);
        assert_eq!(
            table.file_stem().unwrap().to_str(),
            Some(partition.as_str()),
            "a table is named for its partition (the template picks it by AWS::Partition)"
        );
        let theirs = with_table(&table, &regions);
        let ours = endpoints(&regions);
        assert_eq!(theirs.len(), ours.len(), "{partition}");
        for (with_table, sdk) in theirs.iter().zip(&ours) {
            assert_eq!(with_table, sdk, "{partition}");
        }
    }
}

/// The SDK reads the table the variable names (else the test above would hold
/// the SDK's table to itself): one with another DNS suffix gives other hosts.
#[test]
fn the_sdk_answers_from_the_table_the_variable_names() {
    let dir = tempfile::tempdir().unwrap();
    let aws = tables()
        .into_iter()
        .find(|t| t.ends_with("aws.json"))
        .unwrap();
    let text = std::fs::read_to_string(aws).unwrap();
    let altered = dir.path().join("aws.json");
    std::fs::write(
        &altered,
        text.replace("amazonaws.com", "partition-table.invalid"),
    )
    .unwrap();
    let lines = with_table(&altered, &["us-east-1".to_owned()]);
    let s3 = lines
        .iter()
        .find(|l| l.starts_with("S3 us-east-1 fips=false dual-stack=false"));
    assert!(
        s3.is_some_and(|l| l.contains("s3.us-east-1.partition-table.invalid")),
        "{lines:?}"
    );
}

/// [`endpoints`] in a child process whose SDK reads `table`.
fn with_table(table: &Path, regions: &[String]) -> Vec<String> {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "endpoints_with_the_table_in_the_environment"])
        .args(["--ignored", "--nocapture", "--test-threads=1"])
        .env(TABLE_VAR, table)
        .env(REGIONS_VAR, regions.join(","))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}: {}\n{stdout}",
        table.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .filter_map(|line| line.strip_prefix("endpoint "))
        .map(|quoted| serde_json::from_str(quoted).expect("a quoted line"))
        .collect()
}

/// The child: this process's SDK reads the table `TABLE_VAR` names.
#[test]
#[ignore = "run by every_packaged_table_gives_the_endpoints_of_the_sdks_own"]
fn endpoints_with_the_table_in_the_environment() {
    assert!(std::env::var_os(TABLE_VAR).is_some(), "set {TABLE_VAR}");
    let regions: Vec<String> = std::env::var(REGIONS_VAR)
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    println!(); // off the line libtest names the test on
    for line in endpoints(&regions) {
        // Quoted: one line each, an error's too.
        println!("endpoint {}", serde_json::Value::String(line));
    }
}
